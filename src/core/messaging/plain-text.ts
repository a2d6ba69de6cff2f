import { compile } from 'html-to-text'

/**
 * The text/plain part, generated from the HTML so authors write one body. The preheader and the
 * open pixel are left out; links keep their address in brackets unless the text already is it.
 */
const convert = compile({
  wordwrap: 78,
  selectors: [
    { selector: '.sf-preheader', format: 'skip' },
    { selector: 'img', format: 'skip' },
    { selector: 'title', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block' },
    { selector: 'td', format: 'block' },
  ],
})

export function htmlToPlainText(html: string): string {
  return convert(html)
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}
