import { describe, expect, it } from 'vitest'
import { htmlToPlainText, lintMail, listUnsubscribeHeaders, renderLayout, type MailToLint } from './index.ts'

const unsubscribe = 'https://sf.test/u/tok'
const body =
  '<p>Hi Ada, your cart is still waiting for you. We kept everything you picked, and it is ready whenever you are. Delivery is free this week, and returns are free for 30 days.</p><p><a href="https://shop.test/cart">Back to your cart</a></p>'

function mail(overrides: Partial<MailToLint> & { body?: string } = {}): MailToLint {
  const category = overrides.category ?? 'marketing'
  const html = renderLayout({
    body: overrides.body ?? body,
    storeName: 'Acme',
    unsubscribeUrl: category === 'marketing' ? unsubscribe : null,
    brand: { logoUrl: 'https://cdn.test/logo.png' },
  })
  return {
    subject: 'Your cart misses you',
    html,
    text: htmlToPlainText(html),
    category,
    headers: category === 'marketing' ? listUnsubscribeHeaders(unsubscribe) : {},
    ...overrides,
  }
}

const codes = (m: MailToLint) => lintMail(m).map((f) => f.code)

describe('lintMail', () => {
  it('finds nothing in a laid-out marketing mail with a logo, and nothing in a transactional one', () => {
    expect(lintMail(mail())).toEqual([])
    expect(lintMail(mail({ category: 'transactional' }))).toEqual([])
  })

  it('names an image without alt text, but not the 1×1 open pixel', () => {
    const m = mail({ body: `${body}<img src="https://cdn.test/banner.png"><img src="https://cdn.test/deco.png" alt="  ">` })
    expect(codes(m)).toEqual(['image_without_alt', 'image_without_alt'])
    expect(lintMail(m)[0]!.message).toContain('https://cdn.test/banner.png')
    expect(codes(mail({ html: `${mail().html}<img src="https://sf.test/t/o/x" width="1" height="1" alt="">` }))).toEqual([])
  })

  it('names a mail that is mostly images, counting text without alt text', () => {
    const banner =
      '<a href="https://shop.test/sale"><img src="https://cdn.test/sale.png" alt="Our summer sale: everything 20% off, this week only, in store and online"></a>'
    const m = mail({ body: banner, category: 'transactional' })
    expect(codes(m)).toEqual(['image_only'])
    // the same picture with the message in words beside it passes
    expect(codes(mail({ body: `${banner}${body}`, category: 'transactional' }))).toEqual([])
  })

  it('wants the unsubscribe link and the one-click headers on marketing mail', () => {
    const plain = mail({ category: 'transactional' })
    expect(codes({ ...plain, category: 'marketing' })).toEqual(['unsubscribe_link_missing', 'list_unsubscribe_missing'])
    expect(codes(mail({ headers: { 'List-Unsubscribe': `<${unsubscribe}>` } }))).toEqual(['list_unsubscribe_missing'])
    // a link the template wrote itself counts when it says so
    const own = mail({ category: 'transactional', body: `${body}<p><a href="https://shop.test/prefs">Unsubscribe or change preferences</a></p>` })
    expect(codes({ ...own, category: 'marketing', headers: listUnsubscribeHeaders(unsubscribe) })).toEqual([])
  })

  it('names a shouting subject, a run of exclamation marks and an empty subject', () => {
    expect(codes(mail({ subject: 'LAST CHANCE TO SAVE' }))).toEqual(['subject_all_caps'])
    expect(codes(mail({ subject: 'VIP offer for you' }))).toEqual([])
    expect(codes(mail({ subject: 'Last chance!!' }))).toEqual(['subject_exclamations'])
    expect(codes(mail({ subject: 'Hi! Sale! Now! Go' }))).toEqual(['subject_exclamations'])
    expect(codes(mail({ subject: 'Welcome! Here is 10% off!' }))).toEqual([])
    expect(codes(mail({ subject: '  ' }))).toEqual(['subject_missing'])
  })

  it('names link text that is another address than the link, not the same site or words', () => {
    const phish = '<p><a href="https://evil.test/login">https://shop.test/account</a></p>'
    const m = mail({ body: `${body}${phish}` })
    expect(codes(m)).toEqual(['link_text_other_url'])
    expect(lintMail(m)[0]!.message).toContain('shop.test')
    expect(codes(mail({ body: `${body}<p><a href="https://www.shop.test/account?x=1">shop.test/account</a></p>` }))).toEqual([])
    expect(codes(mail({ body: `${body}<p><a href="https://evil.test/">www.shop.test</a></p>` }))).toEqual(['link_text_other_url'])
  })

  it('wants a plain-text part that says what the HTML says', () => {
    expect(codes(mail({ text: null }))).toEqual(['text_part_missing'])
    expect(codes(mail({ text: 'Hi' }))).toEqual(['text_part_too_short'])
  })
})
