import { z } from 'zod'
import { defineAction, PermanentError, type PushedSnapshot, RetryableError, SkipStep } from '../../plugin-api/index.ts'
import { pushToShopify } from './shopify.ts'
import { pushToWooCommerce } from './woocommerce.ts'

type Channel = 'shopify' | 'woocommerce'
type Result = { channel: Channel; status: 'updated' | 'not_connected' | 'failed'; detail?: string }

export const syncChannels = defineAction({
  type: 'sync_channels',
  title: 'Sync sales channels',
  description:
    "Pushes a product's price, compare-at price, description and availability (status) from storeflow's catalogue to each sales channel of the store: Shopify (Admin GraphQL productUpdate and productVariantsBulkUpdate, with the Shopify connector's access token) and WooCommerce (REST PUT /wp-json/wc/v3/products/{id}, with the WooCommerce connector's api_url and `consumer_key:consumer_secret` as its access token). A channel without credentials is `not_connected`. Output: { channels: [{ channel, status: updated | not_connected | failed, detail? }] }. 429, 5xx and Shopify's THROTTLED retry the step; a retry never sends again to a channel this step already updated. A channel refusing for good (401, 404, userErrors) fails the step, naming the channel, after the other channels were tried. The shop's product.updated echoing this push starts no run.",
  input: z.object({
    product_id: z
      .union([z.string().min(1), z.number()])
      .transform(String)
      .describe('The product to push'),
  }),
  output: z.object({
    channels: z.array(
      z.object({ channel: z.enum(['shopify', 'woocommerce']), status: z.enum(['updated', 'not_connected', 'failed']), detail: z.string().optional() }),
    ),
  }),
  effects: 'external',
  retry: { safe: true },
  examples: [{ product_id: '{{ event.data.id }}' }],
  async run({ input, services, idempotencyKey, clock }) {
    const product = await services.catalogue.product(input.product_id)
    if (!product) throw new SkipStep('product_not_found')
    const snapshot: PushedSnapshot = {
      status: product.status,
      description: product.description,
      variants: Object.fromEntries(product.variants.map((v) => [v.id, { price: v.price, compare_at_price: v.compare_at_price }])),
    }
    const done = new Set(await services.catalogue.pushedChannels(idempotencyKey))
    const shopify = await services.catalogue.shopifyAdmin()
    const woo = await services.catalogue.wooCommerce()
    const pushes: Array<[Channel, boolean, () => Promise<void>]> = [
      ['shopify', shopify !== null, () => pushToShopify(services.http, shopify!, product, idempotencyKey)],
      ['woocommerce', woo !== null, () => pushToWooCommerce(services.http, woo!, product, services.config.allowPrivateHttp)],
    ]
    const results: Result[] = []
    let retry: RetryableError | null = null
    for (const [channel, connected, push] of pushes) {
      if (!connected) {
        results.push({ channel, status: 'not_connected' })
        continue
      }
      if (done.has(channel)) {
        results.push({ channel, status: 'updated' })
        continue
      }
      try {
        await push()
        // recorded at once: a retry of this step skips it, and its echo is recognised
        await services.catalogue.recordPush(idempotencyKey, channel, product.id, snapshot, clock.now())
        results.push({ channel, status: 'updated' })
      } catch (err) {
        if (err instanceof RetryableError) retry ??= err
        else results.push({ channel, status: 'failed', detail: err instanceof Error ? err.message.slice(0, 300) : String(err) })
      }
    }
    if (retry) throw retry
    const failed = results.filter((r) => r.status === 'failed')
    if (failed.length > 0) throw new PermanentError(failed.map((f) => `${f.channel} failed: ${f.detail}`).join('; '), { details: { channels: results } })
    return { channels: results }
  },
})
