import { compile, type FormatCallback } from 'html-to-text'

/** An image is its alt text in plain text (the logo is the store's name); one without alt is nothing. */
const altText: FormatCallback = (elem, _walk, builder) => {
  const alt = typeof elem.attribs?.alt === 'string' ? elem.attribs.alt.trim() : ''
  if (alt) builder.addInline(alt)
}

const selectors = [
  { selector: '.sf-preheader', format: 'skip' },
  { selector: 'title', format: 'skip' },
  { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
  { selector: 'table', format: 'block' },
  { selector: 'tr', format: 'block' },
  { selector: 'td', format: 'block' },
]

/**
 * The text/plain part, generated from the HTML so authors write one body. The preheader and the
 * open pixel are left out, images are their alt text; links keep their address in brackets
 * unless the text already is it.
 */
const convert = compile({ wordwrap: 78, formatters: { altText }, selectors: [...selectors, { selector: 'img', format: 'altText' }] })

/** The words a reader sees with images off: no alt text either (lint.ts measures text against images with it). */
const convertWithoutImages = compile({
  wordwrap: false,
  selectors: [...selectors, { selector: 'a', options: { ignoreHref: true } }, { selector: 'img', format: 'skip' }],
})

export function htmlToPlainText(html: string): string {
  return convert(html)
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

export function visibleText(html: string): string {
  return convertWithoutImages(html).replace(/\s+/g, ' ').trim()
}
