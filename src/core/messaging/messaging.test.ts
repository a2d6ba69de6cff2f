import { describe, expect, it } from 'vitest'
import {
  applyTracking,
  htmlToPlainText,
  listUnsubscribeHeaders,
  renderLayout,
  renderLayoutForText,
  stableMessageId,
  verifyClickToken,
  verifyOpenToken,
} from './index.ts'

const opts = { publicUrl: 'https://sf.test', secretKey: 'k', messageId: 'msg_9' }

describe('renderLayout', () => {
  it('wraps a fragment in a 600px table layout with preheader, store name and unsubscribe footer', () => {
    const html = renderLayout({ body: '<p>Hello</p>', storeName: 'Tom & Co', preheader: 'Your cart misses you', unsubscribeUrl: 'https://sf.test/u/abc' })
    expect(html).toContain('max-width:600px')
    expect(html).toContain('role="presentation"')
    expect(html).toMatch(/class="sf-preheader" style="display:none;[^"]*">Your cart misses you/)
    expect(html).toContain('Tom &amp; Co')
    expect(html).toMatch(/<a href="https:\/\/sf\.test\/u\/abc" data-sf-unsubscribe="1"[^>]*>Unsubscribe<\/a>/)
  })

  it('shows no unsubscribe link without one (transactional)', () => {
    expect(renderLayout({ body: '<p>x</p>', storeName: 'S' })).not.toContain('Unsubscribe')
  })

  it('keeps a whole document, adding the preheader and the unsubscribe link', () => {
    const html = renderLayout({ body: '<html><body><p>Mine</p></body></html>', storeName: 'S', preheader: 'pre', unsubscribeUrl: 'https://sf.test/u/z' })
    expect(html.startsWith('<html><body><div class="sf-preheader"')).toBe(true)
    expect(html).toContain('https://sf.test/u/z')
    expect(html.endsWith('</body></html>')).toBe(true)
  })
})

describe('htmlToPlainText', () => {
  it('keeps the words and links, drops the preheader and images', () => {
    const html = renderLayout({
      body: '<p>Hi Ada,</p><p><a href="https://shop.test/cart">Back to your cart</a></p><img src="x.png" alt="logo">',
      storeName: 'Acme',
      preheader: 'PREVIEW',
    })
    const text = htmlToPlainText(html)
    expect(text).toContain('Hi Ada,')
    expect(text).toContain('Back to your cart [https://shop.test/cart]')
    expect(text).not.toContain('PREVIEW')
    expect(text).not.toContain('x.png')
  })
})

describe('renderLayoutForText', () => {
  it('converts to the same plain text as the full layout', () => {
    const bodies = [
      '<h1>Hi</h1><p>Order <strong>#1</strong></p><table><tr><td>Item</td><td>2 ×</td></tr></table><p><a href="https://shop.test/o/1">View</a></p>',
      '</td></tr></table><p>breaks out</p>',
      `<ul><li>one</li></ul><pre>  x</pre><div>${'word '.repeat(40)}</div>`,
      '<html><body><p>Mine</p></body></html>',
    ]
    for (const body of bodies) {
      for (const unsubscribeUrl of [null, 'https://sf.test/u/abcdefghijklmnopqrstuvwxyz.0123456789abcdefghijklmnopqrstuvwxyz']) {
        const options = { body, storeName: 'Tom & Co', preheader: 'PREVIEW', unsubscribeUrl }
        expect(htmlToPlainText(renderLayoutForText(options))).toBe(htmlToPlainText(renderLayout(options)))
      }
    }
  })
})

describe('tracking', () => {
  it('rewrites http(s) links through signed click URLs and leaves the rest', () => {
    const html =
      '<body><a href="https://shop.test/a?x=1&amp;y=2">A</a> <a class="b" href=\'http://shop.test/b\'>B</a> ' +
      '<a href="mailto:help@shop.test">M</a> <a href="#top">T</a> <a href="tel:+1">P</a> ' +
      '<a href="https://sf.test/u/tok" data-sf-unsubscribe="1">U</a> <a href="https://x.test/" data-sf-no-track>N</a></body>'
    const out = applyTracking(html, opts)
    const hrefs = [...out.matchAll(/href=(?:"([^"]*)"|'([^']*)')/g)].map((m) => m[1] ?? m[2])
    const clicks = hrefs.filter((h) => h?.startsWith('https://sf.test/t/c/'))
    expect(clicks).toHaveLength(2)
    expect(clicks.map((h) => verifyClickToken('k', h!.slice('https://sf.test/t/c/'.length))?.url)).toEqual([
      'https://shop.test/a?x=1&y=2',
      'http://shop.test/b',
    ])
    expect(hrefs).toContain('mailto:help@shop.test')
    expect(hrefs).toContain('#top')
    expect(hrefs).toContain('tel:+1')
    expect(hrefs).toContain('https://sf.test/u/tok')
    expect(hrefs).toContain('https://x.test/')
    expect(out).toContain('class="b"')
  })

  it('appends the open pixel before </body>', () => {
    const out = applyTracking('<html><body><p>x</p></body></html>', opts)
    const src = /<img src="https:\/\/sf\.test\/t\/o\/([^"]+)"/.exec(out)?.[1]
    expect(src && verifyOpenToken('k', src)).toEqual({ kind: 'open', messageId: 'msg_9' })
    expect(out.endsWith('</body></html>')).toBe(true)
  })
})

describe('headers', () => {
  it('derives a stable Message-ID from the idempotency key and the public host', () => {
    const a = stableMessageId('run_1:step_1', 'https://mail.shop.test:8080/')
    expect(a).toMatch(/^<[0-9a-f]{64}@mail\.shop\.test>$/)
    expect(stableMessageId('run_1:step_1', 'https://mail.shop.test:8080/')).toBe(a)
    expect(stableMessageId('run_1:step_2', 'https://mail.shop.test:8080/')).not.toBe(a)
  })

  it('builds RFC 8058 one-click headers', () => {
    expect(listUnsubscribeHeaders('https://sf.test/u/t')).toEqual({
      'List-Unsubscribe': '<https://sf.test/u/t>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    })
  })
})
