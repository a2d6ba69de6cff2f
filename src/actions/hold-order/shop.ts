import { PermanentError, type ActionServices } from '../../plugin-api/index.ts'
import { shopifyGraphql, shopifyLabel, stepHandle, userErrorText, type ShopifyUserError } from '../shared/shopify-graphql.ts'

/**
 * The order held in the store's Shopify shop too, through the GraphQL Admin API (2025-01 unless the
 * connector's api_url names another version):
 * - `order(id:) { fulfillmentOrders(first:) { nodes { id status supportedActions { action }
 *   fulfillmentHolds { handle } } } }`: the order's fulfillment orders; one whose supportedActions
 *   include `HOLD` may be held (FulfillmentOrderAction).
 * - `fulfillmentOrderHold(id:, fulfillmentHold: FulfillmentOrderHoldInput!)` with `reason`
 *   (FulfillmentHoldReason: `HIGH_RISK_OF_FRAUD`, `OTHER`, …), `reasonNotes` and `handle`; answers
 *   `fulfillmentHold { id }`, `fulfillmentOrder { id status }` and `userErrors { field code message }`.
 *   From 2025-01 a fulfillment order may carry several holds, told apart by the `handle` an app
 *   gives (unique among one app's holds on one fulfillment order).
 * The step's hold carries a handle made from its idempotency key: a fulfillment order that already
 * has it (an earlier attempt of the step held it) is not held again.
 * Scopes: read and write of merchant-managed fulfillment orders (write_merchant_managed_fulfillment_orders).
 */

const SCOPES = 'read_merchant_managed_fulfillment_orders and write_merchant_managed_fulfillment_orders'
/** Fulfillment orders read per order: an order splits into one per location, rarely more than a few. */
const FULFILLMENT_ORDERS_PER_ORDER = 50

const FULFILLMENT_ORDERS = `query orderFulfillmentOrders($id: ID!) { order(id: $id) { id fulfillmentOrders(first: ${FULFILLMENT_ORDERS_PER_ORDER}) { nodes { id status supportedActions { action } fulfillmentHolds { handle } } } } }`
const HOLD =
  'mutation fulfillmentOrderHold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) { fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) { fulfillmentHold { id } fulfillmentOrder { id status } userErrors { field code message } } }'

interface FulfillmentOrderNode {
  id: string
  status?: string
  supportedActions?: Array<{ action?: string }>
  fulfillmentHolds?: Array<{ handle?: string | null }>
}

export type HoldOutcome = 'held' | 'not_connected' | 'nothing_to_hold'

export async function holdInShop(
  services: ActionServices,
  request: { orderId: string; highRisk: boolean; notes: string; idempotencyKey: string },
): Promise<HoldOutcome> {
  const admin = await services.orders.shopifyAdmin()
  if (!admin) return 'not_connected'
  const handle = stepHandle(request.idempotencyKey)
  const data = await shopifyGraphql<{ order?: { fulfillmentOrders?: { nodes?: FulfillmentOrderNode[] } } | null }>(services.http, admin, {
    query: FULFILLMENT_ORDERS,
    variables: { id: `gid://shopify/Order/${request.orderId}` },
    idempotencyKey: `${request.idempotencyKey}:fulfillment-orders`,
    scopes: SCOPES,
  })
  if (!data.order) throw new PermanentError(`${shopifyLabel(admin)} has no order ${request.orderId}`, { reason: 'not_found' })
  const nodes = data.order.fulfillmentOrders?.nodes ?? []
  let held = nodes.filter((fo) => (fo.fulfillmentHolds ?? []).some((h) => h.handle === handle)).length
  const toHold = nodes.filter(
    (fo) => !(fo.fulfillmentHolds ?? []).some((h) => h.handle === handle) && (fo.supportedActions ?? []).some((a) => a.action === 'HOLD'),
  )
  for (const fo of toHold) {
    const result = await shopifyGraphql<{ fulfillmentOrderHold?: { fulfillmentHold?: { id?: string } | null; userErrors?: ShopifyUserError[] } | null }>(
      services.http,
      admin,
      {
        query: HOLD,
        variables: {
          id: fo.id,
          fulfillmentHold: {
            reason: request.highRisk ? 'HIGH_RISK_OF_FRAUD' : 'OTHER',
            reasonNotes: request.notes,
            handle,
            notifyMerchant: false,
          },
        },
        idempotencyKey: `${request.idempotencyKey}:${fo.id}`,
        scopes: SCOPES,
      },
    )
    const errors = result.fulfillmentOrderHold?.userErrors ?? []
    if (errors.length > 0)
      throw new PermanentError(`${shopifyLabel(admin)} did not hold fulfillment order ${fo.id}: ${userErrorText(errors)}`, { reason: 'shop_refused' })
    held++
  }
  return held > 0 ? 'held' : 'nothing_to_hold'
}
