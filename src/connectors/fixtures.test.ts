import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCESS_TOKEN, startBigCommerceApi, type BigCommerceApiServer } from '../../test/helpers/bigcommerce-api.ts'
import { CONNECTORS } from './registry.ts'
import { delivery, expectCanonical, fixture, fixtureFiles, hmacBase64, localDeps, standardWebhookSignature } from './testing.ts'
import type { WebhookDelivery } from './types.ts'

/**
 * Every fixture file in test/fixtures/webhooks/: accepted with a correct signature, rejected
 * with a wrong one or after a proxy re-serialised it, and mapped to schema-valid canonical events.
 * Concrete field values are asserted per platform in <platform>/*.test.ts.
 */

const NOW = new Date('2026-01-01T00:00:00Z')
const SECRET = 'storeflow-test-secret'
const WRONG = 'not-the-secret'

/** What a proxy that parses and re-emits JSON does to the bytes (here: compact, no trailing newline). */
function reserialise(body: Buffer): Buffer {
  return Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))))
}

const shopifyTopic = (file: string) => {
  const [resource, ...action] = file.replace(/\.json$/, '').split('-')
  const name = resource === 'inventory' ? 'inventory_levels' : resource
  return `${name}/${action.at(-1)}`
}

function shopifyDelivery(file: string, body: Buffer, key: string): WebhookDelivery {
  return delivery(
    {
      'X-Shopify-Hmac-Sha256': hmacBase64(key, body),
      'X-Shopify-Topic': shopifyTopic(file),
      'X-Shopify-Shop-Domain': 'jsmith.myshopify.com',
      'X-Shopify-Event-Id': `evt-${file}`,
      'X-Shopify-Webhook-Id': `wh-${file}`,
    },
    body,
  )
}

function wooDelivery(file: string, body: Buffer, key: string): WebhookDelivery {
  const topic = file.replace(/\.json$/, '').replace('-', '.')
  return delivery({ 'X-WC-Webhook-Signature': hmacBase64(key, body), 'X-WC-Webhook-Topic': topic, 'X-WC-Webhook-Delivery-ID': `d-${file}` }, body)
}

function bigCommerceDelivery(body: Buffer, key: string): WebhookDelivery {
  const ts = Math.floor(NOW.getTime() / 1000)
  return delivery(
    {
      'webhook-id': `msg_${body.length}`,
      'webhook-timestamp': String(ts),
      'webhook-signature': standardWebhookSignature(Buffer.from(key), `msg_${body.length}`, ts, body),
    },
    body,
  )
}

let api: BigCommerceApiServer
beforeAll(async () => {
  api = await startBigCommerceApi()
})
afterAll(async () => {
  await api.close()
})

const builders = {
  shopify: (file: string, body: Buffer, key: string) => shopifyDelivery(file, body, key),
  woocommerce: (file: string, body: Buffer, key: string) => wooDelivery(file, body, key),
  bigcommerce: (_file: string, body: Buffer, key: string) => bigCommerceDelivery(body, key),
} as const

describe.each(['shopify', 'woocommerce', 'bigcommerce'] as const)('%s fixtures', (platform) => {
  const files = fixtureFiles(platform)
  const connector = CONNECTORS[platform]
  const creds = () => ({ secrets: [SECRET], shopDomain: 'jsmith.myshopify.com', apiUrl: api.apiUrl, accessToken: ACCESS_TOKEN })

  it('has fixtures to test', () => {
    expect(files.length).toBeGreaterThanOrEqual({ shopify: 12, woocommerce: 4, bigcommerce: 15 }[platform])
  })

  it.each(files)('%s: accepted signed, rejected wrong or re-serialised, mapped to valid canonical events', async (file) => {
    const body = fixture(platform, file)
    const good = builders[platform](file, body, SECRET)
    expect(connector.verify(good, creds(), NOW)).toEqual({ ok: true })
    expect(connector.verify(builders[platform](file, body, WRONG), creds(), NOW).ok).toBe(false)

    // A proxy re-serialising the body keeps the original signature header but changes the bytes.
    const proxied = { ...good, rawBody: reserialise(body) }
    expect(proxied.rawBody.equals(body)).toBe(false)
    expect(connector.verify(proxied, creds(), NOW)).toMatchObject({ ok: false })

    // Rotation: the right secret is accepted in either slot.
    expect(connector.verify(good, { ...creds(), secrets: [WRONG, SECRET] }, NOW)).toEqual({ ok: true })

    const mapped = await connector.map(good, creds(), localDeps)
    expect(mapped.unknownTopic).toBe(false)
    expect(mapped.events.length).toBeGreaterThan(0)
    expect(mapped.dedupeKey).toBeTruthy()
    const events = expectCanonical(mapped.events)
    // A redelivery of the same event maps to the same ids.
    const again = await connector.map(good, creds(), localDeps)
    expect(again.events.map((e) => e.id)).toEqual(events.map((e) => e.id))
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
  })
})
