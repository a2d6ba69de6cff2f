import { visibleText } from './plain-text.ts'

/**
 * A spam-check-style lint of a rendered email: what makes filters and readers distrust a mail
 * (images without alt text, a mail that is mostly pictures, no way to unsubscribe, a shouting
 * subject, links whose text names another site, no plain-text part). Pure: it reads the HTML, text,
 * subject and headers a message leaves with, and returns one named finding per problem, none when
 * the mail is fine. SpamAssassin's HTML_IMAGE_ONLY_*, MPART_ALT_DIFF, SUBJ_ALL_CAPS and
 * HTML_MIME_NO_HTML_TAG rules are the models; the thresholds are ours, stated below.
 */
export interface MailToLint {
  subject: string
  html: string
  /** the text/plain part; null or empty when there is none */
  text: string | null
  category: 'transactional' | 'marketing'
  headers: Record<string, string>
}

export type MailLintCode =
  | 'subject_missing'
  | 'subject_all_caps'
  | 'subject_exclamations'
  | 'image_without_alt'
  | 'image_only'
  | 'unsubscribe_link_missing'
  | 'list_unsubscribe_missing'
  | 'link_text_other_url'
  | 'text_part_missing'
  | 'text_part_too_short'

export interface MailLintFinding {
  code: MailLintCode
  /** what is wrong and how to fix it, for the person who wrote the template */
  message: string
}

/** a mail shows at least this many characters of text (without alt text), and this many more per image */
export const MIN_TEXT_CHARS = 100
export const TEXT_CHARS_PER_IMAGE = 60
/** a subject with at least this many letters, this share of them capitals, shouts */
const CAPS_MIN_LETTERS = 8
const CAPS_SHARE = 0.7
/** the text part is at least this long, and this share of the HTML's visible text */
const MIN_TEXT_PART_CHARS = 20
const TEXT_PART_SHARE = 0.5

export function lintMail(mail: MailToLint): MailLintFinding[] {
  const findings: MailLintFinding[] = []
  const add = (code: MailLintCode, message: string) => findings.push({ code, message })

  const subject = mail.subject.trim()
  if (!subject) add('subject_missing', 'the subject is empty')
  else {
    const letters = [...subject].filter((c) => c.toLowerCase() !== c.toUpperCase())
    const capitals = letters.filter((c) => c === c.toUpperCase() && c !== c.toLowerCase())
    if (letters.length >= CAPS_MIN_LETTERS && capitals.length / letters.length >= CAPS_SHARE)
      add('subject_all_caps', `the subject "${subject}" is in capitals; write it in sentence case`)
    if (/!{2,}/.test(subject) || (subject.match(/!/g)?.length ?? 0) > 2)
      add('subject_exclamations', `the subject "${subject}" has too many exclamation marks; one at most`)
  }

  // the open pixel (1×1, alt="") is decoration by design; every other image needs words
  const images = tags(mail.html, 'img').filter((attrs) => !(attrs.width === '1' && attrs.height === '1'))
  for (const image of images) {
    if (!image.alt?.trim()) add('image_without_alt', `the image ${image.src ?? '(no src)'} has no alt text; say what it shows`)
  }
  const words = visibleText(mail.html)
  const needed = MIN_TEXT_CHARS + TEXT_CHARS_PER_IMAGE * Math.max(0, images.length - 1)
  if (images.length > 0 && words.length < needed)
    add('image_only', `the mail is mostly images: ${words.length} characters of text for ${images.length} image(s), ${needed} needed; put the message in text`)

  if (mail.category === 'marketing') {
    const unsubscribe = anchors(mail.html).some(
      (a) => /^https?:\/\//i.test(a.href) && (/\bdata-sf-unsubscribe\b/i.test(a.tag) || /unsubscribe/i.test(a.text)) && a.text.trim() !== '',
    )
    if (!unsubscribe) add('unsubscribe_link_missing', 'marketing mail shows no unsubscribe link; send it with category marketing so the layout adds one')
    const header = headerValue(mail.headers, 'List-Unsubscribe')
    const post = headerValue(mail.headers, 'List-Unsubscribe-Post')
    if (!header || !/<https?:\/\/[^>]+>/i.test(header) || post !== 'List-Unsubscribe=One-Click')
      add('list_unsubscribe_missing', 'marketing mail lacks the List-Unsubscribe and List-Unsubscribe-Post (one-click) headers')
  }

  for (const a of anchors(mail.html)) {
    const shown = urlIn(a.text)
    const target = hostOf(decodeEntities(a.href))
    if (shown && target && shown !== target)
      add('link_text_other_url', `the link text "${a.text.trim()}" names ${shown} but the link goes to ${target}; use words, or the same address`)
  }

  const text = mail.text?.trim() ?? ''
  if (!text) add('text_part_missing', 'the mail has no plain-text part')
  else {
    const wanted = Math.max(MIN_TEXT_PART_CHARS, Math.floor(words.length * TEXT_PART_SHARE))
    if (text.replace(/\s+/g, ' ').length < wanted)
      add('text_part_too_short', `the plain-text part has ${text.length} characters, the HTML shows ${words.length}; it should say the same`)
  }
  return findings
}

/** the attributes of every `<name …>` tag, lower-cased names, entity-decoded values */
function tags(html: string, name: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = []
  for (const m of html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'gi'))) out.push(attributes(m[1] ?? ''))
  return out
}

function attributes(source: string): Record<string, string> {
  const attrs: Record<string, string> = {}
  for (const m of source.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    attrs[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '')
  }
  return attrs
}

function anchors(html: string): Array<{ tag: string; href: string; text: string }> {
  const out: Array<{ tag: string; href: string; text: string }> = []
  for (const m of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi)) {
    const attrs = attributes(m[1] ?? '')
    // the text a reader sees: inner tags dropped, an image counts as its alt text
    const inner = (m[2] ?? '').replace(/<img\b([^>]*)>/gi, (_, a: string) => ` ${attributes(a).alt ?? ''} `).replace(/<[^>]*>/g, '')
    out.push({ tag: m[1] ?? '', href: attrs.href ?? '', text: decodeEntities(inner).replace(/\s+/g, ' ') })
  }
  return out
}

/** the host a link text names when the text is an address (`https://x.test/a`, `www.x.test`, `x.test/a`) */
function urlIn(text: string): string | null {
  const t = text.trim()
  if (/\s/.test(t) || t === '') return null
  if (/^https?:\/\//i.test(t)) return hostOf(t)
  if (/^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(\/\S*)?$/i.test(t)) return hostOf(`http://${t}`)
  return null
}

function hostOf(url: string): string | null {
  try {
    const parsed = new URL(url.trim())
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
    return parsed.hostname.toLowerCase().replace(/^www\./, '')
  } catch {
    return null
  }
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase())
  return key === undefined ? undefined : headers[key]
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt|nbsp);/gi, (m, code: string) => {
    const c = code.toLowerCase()
    const named: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', nbsp: ' ' }
    if (named[c]) return named[c]
    const n = c.startsWith('#x') ? Number.parseInt(c.slice(2), 16) : Number.parseInt(c.slice(1), 10)
    return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m
  })
}
