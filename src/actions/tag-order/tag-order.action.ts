import { z } from 'zod'
import { defineAction, outboundFailure, PermanentError, RetryableError, SkipStep, type ActionContext } from '../../plugin-api/index.ts'
import { retryAfterMs } from '../http-request/http-request.action.ts'
import { subjectOrder } from '../shared/subject-order.ts'

/** Per request to the shop's Admin API, ms. */
const SHOP_TIMEOUT_MS = 15_000
/** Per answer: a tagsAdd answer is a few hundred bytes. */
const SHOP_MAX_RESPONSE_BYTES = 256 * 1024

const TAGS_ADD = 'mutation tagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }'

const tagOrderInput = z.object({
  tags: z.array(z.string().min(1).max(255)).min(1).max(50).describe('Tags to add; ones the order already has are left as they are'),
})

export const tagOrder = defineAction({
  type: 'tag_order',
  title: 'Tag order',
  description:
    "Adds tags to the order the run's trigger is about, in storeflow's view (`order.tags` in later conditions, beside the shop's own tags), and, when the store has a Shopify connector with an access token, in the shop too (GraphQL Admin API `tagsAdd` on the order, which adds and never removes, so a retry does no harm; the connector's api_url is the Admin API base `https://SHOP/admin/api/VERSION`, else `https://<shop_domain>` with version 2025-01; the token needs the write_orders scope). Output `shop`: `tagged`, or `not_connected` when there is no such connector. Skipped when the trigger is about no order.",
  input: tagOrderInput,
  output: z.object({ added: z.array(z.string()), shop: z.enum(['tagged', 'not_connected', 'dry_run']) }),
  effects: 'external',
  simulate: 'dry_run',
  retry: { safe: true },
  examples: [{ tags: ['review'] }],
  async run(ctx) {
    const { input, scope, services, dryRun } = ctx
    // simulate: says what it would add, touches nothing (not even a read of the shop's credentials)
    if (dryRun) return { added: input.tags, shop: 'dry_run' as const }
    const order = subjectOrder(scope)
    if (!order) throw new SkipStep('no_order')
    // the shop first: if it fails the step retries, and the view's union is the same however often it runs
    const shop = await tagInShop(ctx, order.id)
    const added = await services.orders.addTags(order.id, input.tags)
    if (added === null) throw new SkipStep('no_order')
    return { added, shop }
  },
})

async function tagInShop(
  { input, services, idempotencyKey }: ActionContext<z.infer<typeof tagOrderInput>>,
  orderId: string,
): Promise<'tagged' | 'not_connected'> {
  const admin = await services.orders.shopifyAdmin()
  if (!admin) return 'not_connected'
  const host = new URL(admin.graphqlUrl).host
  let response: Awaited<ReturnType<typeof services.http.request>>
  try {
    response = await services.http.request(admin.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': admin.accessToken, 'idempotency-key': idempotencyKey },
      body: JSON.stringify({ query: TAGS_ADD, variables: { id: `gid://shopify/Order/${orderId}`, tags: input.tags } }),
      timeoutMs: SHOP_TIMEOUT_MS,
      maxResponseBytes: SHOP_MAX_RESPONSE_BYTES,
      redirects: 'refuse',
    })
  } catch (err) {
    throw outboundFailure(`Shopify Admin API (${host})`, err)
  }
  if (response.status === 429 || response.status >= 500) {
    throw new RetryableError(`Shopify Admin API (${host}) answered ${response.status}`, { retryAfterMs: retryAfterMs(response.headers['retry-after'] ?? null) })
  }
  if (response.status === 401 || response.status === 403) {
    throw new PermanentError(
      `Shopify Admin API (${host}) refused the access token (${response.status}); check the connector's access token and its write_orders scope`,
    )
  }
  if (response.status < 200 || response.status >= 300) throw new PermanentError(`Shopify Admin API (${host}) answered ${response.status}`)
  let body: { errors?: Array<{ message?: string }>; data?: { tagsAdd?: { userErrors?: Array<{ message?: string }> } | null } } = {}
  try {
    body = JSON.parse(response.body) as typeof body
  } catch {
    throw new PermanentError(`Shopify Admin API (${host}) answered something that is not JSON`)
  }
  // GraphQL reports throttling and errors in a 200 answer
  const problems = [...(body.errors ?? []), ...(body.data?.tagsAdd?.userErrors ?? [])].map((e) => String(e.message ?? 'error'))
  if (problems.some((p) => /throttled/i.test(p))) throw new RetryableError(`Shopify Admin API (${host}) throttled the request`)
  if (problems.length > 0) throw new PermanentError(`Shopify Admin API (${host}): ${problems.join('; ').slice(0, 300)}`)
  return 'tagged'
}
