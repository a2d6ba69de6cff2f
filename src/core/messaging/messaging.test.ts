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

describe('renderLayout with a brand', () => {
  const brand = {
    logoUrl: 'https://cdn.test/logo.png?v=1&s=2',
    logoWidth: 180,
    logoHeight: 40,
    primaryColor: '#0F766E',
    backgroundColor: '#fef3c7',
    footerText: '1 Harbour St\nBristol <BS1>',
    shopUrl: 'https://shop.test/',
  }

  it('shows the logo with the name as alt text, linked to the shop, the colours and the footer text', () => {
    const html = renderLayout({
      body: '<p><a href="https://shop.test/a">A</a> <a class="sf-button" href="https://shop.test/b">B</a></p>',
      storeName: 'Tom & Co',
      brand,
    })
    expect(html).toMatch(
      /<td class="sf-header" style="background-color:#0f766e;[^"]*color:#ffffff;"><a href="https:\/\/shop\.test\/" style="color:#ffffff;[^"]*"><img src="https:\/\/cdn\.test\/logo\.png\?v=1&amp;s=2" alt="Tom &amp; Co" width="180" height="40" style="[^"]*"><\/a><\/td>/,
    )
    expect(html).toContain('<body style="margin:0;padding:0;width:100%;background-color:#fef3c7;')
    expect(html).toContain('<a href="https://shop.test/a" style="color:#0f766e;">A</a>')
    expect(html).toMatch(/<a class="sf-button" href="https:\/\/shop\.test\/b" style="display:inline-block;[^"]*background-color:#0f766e;color:#ffffff;/)
    expect(html).toContain('1 Harbour St<br>Bristol &lt;BS1&gt;')
    // a light primary colour gets dark text
    expect(renderLayout({ body: '', storeName: 'S', brand: { primaryColor: '#fde047' } })).toMatch(/background-color:#fde047;[^"]*color:#111827;/)
  })

  it('without a brand looks as it always did: the name in dark text, links left alone', () => {
    const html = renderLayout({ body: '<p><a href="https://shop.test/a">A</a></p>', storeName: 'Tom & Co', brand: null })
    expect(html).toContain(
      'padding:24px 32px 8px 32px;font-family:Helvetica,Arial,sans-serif;font-size:20px;line-height:28px;font-weight:bold;color:#111827;">Tom &amp; Co</td>',
    )
    expect(html).toContain('<a href="https://shop.test/a">A</a>')
    expect(html).toContain('background-color:#f4f4f5;')
    expect(html).not.toContain('<img')
  })

  it('drops values that are not a colour or an http(s) URL, so settings cannot add markup or CSS', () => {
    const html = renderLayout({
      body: '<p>x</p>',
      storeName: 'S',
      brand: {
        logoUrl: 'javascript:alert(1)',
        primaryColor: 'red;background:url(https://evil.test/x)',
        backgroundColor: '#fff" onload="x',
        shopUrl: 'https://shop.test/"><script>',
        logoWidth: 10_000,
      },
    })
    expect(html).not.toMatch(/javascript:|evil\.test|onload|<script|<img/)
    expect(html).toContain('background-color:#f4f4f5;')
    const img = renderLayout({ body: '', storeName: 'S', brand: { logoUrl: 'https://cdn.test/l.png', logoWidth: 10_000, logoHeight: 0 } })
    expect(img).toContain('width="160" height="48"')
  })

  it('the plain-text part has the name where the logo is, the footer text, and the same text either way', () => {
    const options = { body: '<p>Hello</p>', storeName: 'Tom & Co', unsubscribeUrl: 'https://sf.test/u/abc', brand }
    const text = htmlToPlainText(renderLayout(options))
    expect(text.split('\n')[0]).toBe('Tom & Co [https://shop.test/]')
    expect(text).toContain('1 Harbour St\nBristol <BS1>')
    expect(text).not.toContain('logo.png')
    expect(htmlToPlainText(renderLayoutForText(options))).toBe(text)
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
