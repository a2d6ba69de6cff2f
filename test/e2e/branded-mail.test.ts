import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { lintMail } from '../../src/core/messaging/index.ts'
import { DIALECTS } from '../helpers/dialects.ts'
import { rawHeader } from '../helpers/smtp-sink.ts'
import { startScenario, type Scenario } from '../scenarios/harness.ts'

/**
 * A store sets its name, logo and colours with PUT /api/v1/settings; the marketing mail a
 * template then sends, read back from a real SMTP server, shows them, has a plain-text part and
 * an unsubscribe link and headers, and passes the mail lint as it arrived (tracked links, open
 * pixel and all).
 */
describe.each(DIALECTS)('branded marketing mail through SMTP on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
  })
  afterEach(async () => {
    await s.close()
  })

  it('carries the logo, the colours, the name, a text part and the unsubscribe link', async () => {
    await s.api('/api/v1/settings', {
      method: 'PUT',
      payload: {
        store_name: 'Linen & Co',
        mail_from: 'hello@linen.example.test',
        mail_reply_to: 'Linen care <care@linen.example.test>',
        shop_url: 'https://linen.example.test/',
        brand: {
          logo_url: 'https://cdn.example.test/logo.png',
          logo_width: 200,
          logo_height: 50,
          primary_color: '#7C3AED',
          footer_text: '1 Harbour Street\nBristol BS1 4DJ',
        },
      },
    })
    await s.install('welcome-voucher')
    await s.send('newsletter.subscribed', { customer: { id: 'c1', email: 'ada@example.com', first_name: '<b>Ada & "Co"</b>', accepts_marketing: true } })

    const [mail, ...more] = s.smtp.received
    expect(more).toEqual([])
    const html = typeof mail!.html === 'string' ? mail!.html : ''
    // the sender is the store, by its name and its address
    expect(mail!.from?.value).toEqual([{ name: 'Linen & Co', address: 'hello@linen.example.test' }])
    expect(mail!.replyTo?.value).toEqual([{ name: 'Linen care', address: 'care@linen.example.test' }])
    expect(html).toContain('<img src="https://cdn.example.test/logo.png" alt="Linen &amp; Co" width="200" height="50"')
    expect(html).toContain('class="sf-header" style="background-color:#7c3aed;')
    expect(html).toContain('1 Harbour Street<br>Bristol BS1 4DJ')
    expect(html).toContain('&lt;b&gt;Ada &amp;')
    expect(html).not.toContain('<b>Ada')
    // the unsubscribe link is visible and is the one the List-Unsubscribe header names
    const unsubscribe = /<a href="([^"]+)" data-sf-unsubscribe="1"[^>]*>Unsubscribe<\/a>/.exec(html)?.[1]
    expect(unsubscribe).toMatch(/\/u\//)
    expect(rawHeader(mail!, 'List-Unsubscribe')).toBe(`List-Unsubscribe: <${unsubscribe}>`)
    // the text part: the name where the logo is, the message, the footer and the link
    const text = mail!.text ?? ''
    expect(text.split('\n')[0]).toBe('Linen & Co [https://linen.example.test/]')
    // (a heading is in capitals in plain text)
    expect(text).toContain('WELCOME, <B>ADA & "CO"</B>!')
    expect(text).toMatch(/Your code [A-Z0-9-]+ takes 10% off/)
    expect(text).toContain('1 Harbour Street\nBristol BS1 4DJ')
    expect(text.replace(/\s+/g, ' ')).toContain(`Unsubscribe [${unsubscribe}]`)

    const headers = {
      'List-Unsubscribe': value(rawHeader(mail!, 'List-Unsubscribe')),
      'List-Unsubscribe-Post': value(rawHeader(mail!, 'List-Unsubscribe-Post')),
    }
    expect(lintMail({ subject: mail!.subject ?? '', html, text, category: 'marketing', headers })).toEqual([])
  })
})

/** the value of a raw `Name: value` header line */
function value(line: string | undefined): string {
  return line ? line.slice(line.indexOf(':') + 1).trim() : ''
}
