import { PermanentError, type ActionServices, type IssuedDiscountCode, type ShopifyAdmin } from '../../plugin-api/index.ts'
import { shopifyGraphql, shopifyLabel, userErrorText, type ShopifyUserError } from '../shared/shopify-graphql.ts'

/**
 * The code storeflow issued, created in the store's Shopify shop so a customer can redeem it there,
 * through the GraphQL Admin API (version 2025-01 unless the connector's api_url names another):
 * - `discountCodeBasicCreate(basicCodeDiscount: DiscountCodeBasicInput!)` for percent and amount
 *   codes: `customerGets.value.percentage` (a fraction, 0.1 for 10%) or `.discountAmount { amount,
 *   appliesOnEachItem: false }`, `customerGets.items.all`, `minimumRequirement.subtotal
 *   .greaterThanOrEqualToSubtotal`, `usageLimit`, `startsAt`/`endsAt`, `appliesOncePerCustomer`,
 *   `customerSelection.all` (the 2025-01 field; `context` replaces it from 2025-04 on).
 * - `discountCodeFreeShippingCreate(freeShippingCodeDiscount: DiscountCodeFreeShippingInput!)` for a
 *   free-shipping code, with `destination.all`.
 * - Both answer `codeDiscountNode { id }` and `userErrors { field code message }`; a code the shop
 *   already has answers the DiscountErrorCode `TAKEN` ("must be unique") on the `code` field.
 * - `codeDiscountNodeByCode(code:)` finds a code discount by its (case-insensitive) code.
 * Scope: write_discounts (read_discounts for the look-up).
 */

const SCOPES = 'write_discounts'

const BASIC_CREATE =
  'mutation discountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) { codeDiscountNode { id } userErrors { field code message } } }'
const FREE_SHIPPING_CREATE =
  'mutation discountCodeFreeShippingCreate($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) { discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) { codeDiscountNode { id } userErrors { field code message } } }'
const BY_CODE = 'query codeDiscountNodeByCode($code: String!) { codeDiscountNodeByCode(code: $code) { id } }'

type CreatePayload = { codeDiscountNode?: { id?: string } | null; userErrors?: ShopifyUserError[] } | null

export type ShopOutcome = { shop: 'created' | 'already_created'; id: string } | { shop: 'not_connected'; id: null }

/**
 * Creates the issued code in the shop once: a retried step first looks the code up (an earlier
 * attempt may have created it before failing), and a create answered "taken" for this very code is
 * looked up too: the code is storeflow's random one, so the shop has it from an earlier attempt.
 */
export async function createInShop(
  services: ActionServices,
  code: IssuedDiscountCode,
  context: { workflowId: string; idempotencyKey: string; startsAt: string },
): Promise<ShopOutcome> {
  const admin = await services.orders.shopifyAdmin()
  if (!admin) return { shop: 'not_connected', id: null }
  if (!code.created) {
    const found = await findByCode(services, admin, code.code, context.idempotencyKey)
    if (found) return { shop: 'already_created', id: found }
  }
  const free = code.kind === 'free_shipping'
  const common = {
    title: `storeflow ${context.workflowId}: ${code.code}`,
    code: code.code,
    startsAt: context.startsAt,
    endsAt: code.expiresAt,
    usageLimit: code.usageLimit,
    // usage_limit counts orders, whoever places them, as storeflow counts the code used
    appliesOncePerCustomer: false,
    customerSelection: { all: true },
    ...(code.minSpend !== null ? { minimumRequirement: { subtotal: { greaterThanOrEqualToSubtotal: code.minSpend } } } : {}),
  }
  const data = free
    ? await shopifyGraphql<{ discountCodeFreeShippingCreate?: CreatePayload }>(services.http, admin, {
        query: FREE_SHIPPING_CREATE,
        variables: { freeShippingCodeDiscount: { ...common, destination: { all: true } } },
        idempotencyKey: context.idempotencyKey,
        scopes: SCOPES,
      })
    : await shopifyGraphql<{ discountCodeBasicCreate?: CreatePayload }>(services.http, admin, {
        query: BASIC_CREATE,
        variables: {
          basicCodeDiscount: {
            ...common,
            customerGets: {
              value: code.kind === 'percent' ? { percentage: Number(code.value) / 100 } : { discountAmount: { amount: code.value, appliesOnEachItem: false } },
              items: { all: true },
            },
          },
        },
        idempotencyKey: context.idempotencyKey,
        scopes: SCOPES,
      })
  const payload = free
    ? (data as { discountCodeFreeShippingCreate?: CreatePayload }).discountCodeFreeShippingCreate
    : (data as { discountCodeBasicCreate?: CreatePayload }).discountCodeBasicCreate
  const userErrors = payload?.userErrors ?? []
  const id = payload?.codeDiscountNode?.id
  if (userErrors.length === 0 && id) return { shop: 'created', id }
  if (userErrors.some(isCodeTaken)) {
    const found = await findByCode(services, admin, code.code, context.idempotencyKey)
    if (found) return { shop: 'already_created', id: found }
  }
  throw new PermanentError(
    `${shopifyLabel(admin)} did not create discount code ${code.code}: ${userErrors.length > 0 ? userErrorText(userErrors) : 'no discount in its answer'}`,
    { reason: 'shop_refused' },
  )
}

function isCodeTaken(e: ShopifyUserError): boolean {
  const onCode = (e.field ?? []).some((f) => f === 'code')
  return (e.code === 'TAKEN' || /must be unique|already (been )?taken/i.test(e.message ?? '')) && (onCode || (e.field ?? []).length === 0)
}

async function findByCode(services: ActionServices, admin: ShopifyAdmin, code: string, idempotencyKey: string): Promise<string | null> {
  const data = await shopifyGraphql<{ codeDiscountNodeByCode?: { id?: string } | null }>(services.http, admin, {
    query: BY_CODE,
    variables: { code },
    idempotencyKey: `${idempotencyKey}:lookup`,
    scopes: 'read_discounts',
  })
  return data.codeDiscountNodeByCode?.id ?? null
}
