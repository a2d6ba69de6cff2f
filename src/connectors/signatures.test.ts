import { describe, expect, it } from 'vitest'
import { verifyBigCommerce } from './bigcommerce/verify.ts'
import { verifyShopify } from './shopify/verify.ts'
import { delivery, fixture, hmacBase64 } from './testing.ts'
import { verifyWooCommerce } from './woocommerce/verify.ts'

/** The worked examples of test/fixtures/webhooks/SIGNATURES.md, verified byte for byte. */

const NOW = new Date('2026-01-01T00:00:00Z')

describe('SIGNATURES.md §1 Shopify', () => {
  const file = fixture('shopify', 'inventory-levels-update.json')
  const compact =
    '{"inventory_item_id":271878346596884015,"location_id":24826418,"available":10,"updated_at":"2021-12-31T19:00:00-05:00","admin_graphql_api_id":"gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015"}'

  it('file bytes (241) with key "hush" → FrmeUY7B…', () => {
    expect(file.length).toBe(241)
    expect(hmacBase64('hush', file)).toBe('FrmeUY7B22+mSEb3iHq7SCjjt63JHGBEEbMKPF1Bo4E=')
    expect(verifyShopify(delivery({ 'X-Shopify-Hmac-Sha256': 'FrmeUY7B22+mSEb3iHq7SCjjt63JHGBEEbMKPF1Bo4E=' }, file), { secrets: ['hush'] })).toEqual({
      ok: true,
    })
  })

  it('compact form (219 bytes) → w6JtYuzU…, and each signature only fits its own bytes', () => {
    expect(Buffer.byteLength(compact)).toBe(219)
    const sig = 'w6JtYuzUNmJZxsjlyxpXok1oZzATjF/LeCYyfES5nmo='
    expect(verifyShopify(delivery({ 'x-shopify-hmac-sha256': sig }, compact), { secrets: ['hush'] })).toEqual({ ok: true })
    expect(verifyShopify(delivery({ 'x-shopify-hmac-sha256': sig }, file), { secrets: ['hush'] }).ok).toBe(false)
  })

  it('re-serialising with JSON.parse/stringify rounds the big ids and breaks the signature (rule 1)', () => {
    const reserialised = JSON.stringify(JSON.parse(compact))
    expect(reserialised).toContain('271878346596884000')
    expect(verifyShopify(delivery({ 'x-shopify-hmac-sha256': 'w6JtYuzUNmJZxsjlyxpXok1oZzATjF/LeCYyfES5nmo=' }, reserialised), { secrets: ['hush'] }).ok).toBe(
      false,
    )
  })
})

describe('SIGNATURES.md §2 WooCommerce', () => {
  it('example 1: 125 bytes with PHP slash escaping → H2bmHlWQ…', () => {
    const body = '{"id":25,"email":"john.doe@example.com","_links":{"self":[{"href":"https:\\/\\/example.com\\/wp-json\\/wc\\/v3\\/customers\\/25"}]}}'
    expect(Buffer.byteLength(body)).toBe(125)
    const d = delivery({ 'x-wc-webhook-signature': 'H2bmHlWQYhYdTajiiztP1K/EHrhpXMyAkF8kncZEsRY=', 'x-wc-webhook-topic': 'customer.created' }, body)
    expect(verifyWooCommerce(d, { secrets: ['wc-test-secret'] })).toEqual({ ok: true })
  })

  it('example 2: file bytes, PHP-compact and JS-compact forms each verify only against their own signature', () => {
    const file = fixture('woocommerce', 'customer-created.json')
    const js = JSON.stringify(JSON.parse(file.toString('utf8')))
    const php = js.replace(/\//g, '\\/')
    const cases: Array<[Buffer | string, number, string]> = [
      [file, 1222, '14txiEPgvjKwoo21RC0bFNwFqeFQdFX9rBPPq4I7tBU='],
      [php, 974, 'u10QcNq01qJ2kWEkfPKOMj5e0TkSsl1ZWj4s6Xv+U5k='],
      [js, 957, 'nNKEgrSlViGgRq9W3Hl6nlUO+R91IZ7x59FUUC2+JsQ='],
    ]
    for (const [body, bytes, sig] of cases) {
      expect(Buffer.byteLength(body)).toBe(bytes)
      for (const [otherBody, , otherSig] of cases) {
        const d = delivery({ 'x-wc-webhook-signature': sig, 'x-wc-webhook-topic': 'customer.created' }, otherBody)
        expect(verifyWooCommerce(d, { secrets: ['wc-test-secret'] }).ok).toBe(otherSig === sig)
      }
    }
  })
})

describe('SIGNATURES.md §3 BigCommerce / Standard Webhooks', () => {
  it('the published Standard Webhooks test vector (whsec_ secret)', () => {
    const d = delivery(
      {
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
        'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      },
      '{"test": 2432232314}',
    )
    expect(verifyBigCommerce(d, { secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }, new Date(1614265330 * 1000))).toEqual({ ok: true })
  })

  const compact =
    '{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,"producer":"stores/{store_hash}"}'
  const at = new Date(1561479335 * 1000)
  const headers = (sig: string) => ({ 'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', 'webhook-timestamp': '1561479335', 'webhook-signature': sig })

  it('the BigCommerce example: client secret as UTF-8 and its whsec_ form give c+N/LLun…', () => {
    expect(Buffer.byteLength(compact)).toBe(192)
    const d = delivery(headers('v1,c+N/LLunx7LOpgd6ums1u5ruLW3Pepymn01L0MplQlE='), compact)
    expect(verifyBigCommerce(d, { secrets: ['bc-client-secret-example'] }, at)).toEqual({ ok: true })
    expect(verifyBigCommerce(d, { secrets: ['whsec_YmMtY2xpZW50LXNlY3JldC1leGFtcGxl'] }, at)).toEqual({ ok: true })
  })

  it('the fixture file bytes (236) give ty6LWXvf…', () => {
    const file = fixture('bigcommerce', 'store-order-created.json')
    expect(file.length).toBe(236)
    const d = delivery(headers('v1,ty6LWXvfZmS9d+1JZts8VzJ5UHs0PX3Ijsj9mxut8FA='), file)
    expect(verifyBigCommerce(d, { secrets: ['bc-client-secret-example'] }, at)).toEqual({ ok: true })
    expect(
      verifyBigCommerce(delivery(headers('v1,c+N/LLunx7LOpgd6ums1u5ruLW3Pepymn01L0MplQlE='), file), { secrets: ['bc-client-secret-example'] }, at).ok,
    ).toBe(false)
  })

  it('accepts when any of several space-separated v1 entries matches', () => {
    const d = delivery(headers('v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,whatever v1,c+N/LLunx7LOpgd6ums1u5ruLW3Pepymn01L0MplQlE='), compact)
    expect(verifyBigCommerce(d, { secrets: ['bc-client-secret-example'] }, at)).toEqual({ ok: true })
  })

  it('rejects timestamps more than 5 minutes from now, in both directions', () => {
    const d = delivery(headers('v1,c+N/LLunx7LOpgd6ums1u5ruLW3Pepymn01L0MplQlE='), compact)
    const secrets = { secrets: ['bc-client-secret-example'] }
    expect(verifyBigCommerce(d, secrets, new Date(at.getTime() + 300_000)).ok).toBe(true)
    expect(verifyBigCommerce(d, secrets, new Date(at.getTime() - 300_000)).ok).toBe(true)
    expect(verifyBigCommerce(d, secrets, new Date(at.getTime() + 301_000))).toMatchObject({ ok: false, reason: expect.stringContaining('tolerance') })
    expect(verifyBigCommerce(d, secrets, new Date(at.getTime() - 301_000))).toMatchObject({ ok: false })
    expect(verifyBigCommerce(d, secrets, NOW).ok).toBe(false)
  })
})
