import { z } from 'zod'
import { defineAction, PermanentError, SkipStep, type ActionContext } from '../../plugin-api/index.ts'
import { shopifyGraphql, shopifyLabel, userErrorText, type ShopifyUserError } from '../shared/shopify-graphql.ts'
import { subjectOrder } from '../shared/subject-order.ts'

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
  // THROTTLED, 429 and 5xx retry after Shopify's wait; 401 fails for good, naming the connector (shared/shopify-graphql.ts)
  const data = await shopifyGraphql<{ tagsAdd?: { userErrors?: ShopifyUserError[] } | null }>(services.http, admin, {
    query: TAGS_ADD,
    variables: { id: `gid://shopify/Order/${orderId}`, tags: input.tags },
    idempotencyKey,
    scopes: 'write_orders',
  })
  const userErrors = data.tagsAdd?.userErrors ?? []
  if (userErrors.length > 0) throw new PermanentError(`${shopifyLabel(admin)}: ${userErrorText(userErrors)}`)
  return 'tagged'
}
