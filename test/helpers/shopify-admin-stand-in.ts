// biome-ignore-all lint/suspicious/noExplicitAny: the stand-in reads and answers arbitrary GraphQL JSON, as a test file does
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A Shopify GraphQL Admin API stand-in on 127.0.0.1, answering as shopify.dev documents (2025-01):
 * `POST /admin/api/VERSION/graphql.json` with `X-Shopify-Access-Token`; 401 with Shopify's body for a
 * wrong token; `discountCodeBasicCreate`, `discountCodeFreeShippingCreate` (userErrors `TAKEN` for a
 * code the shop has), `codeDiscountNodeByCode`, `order(id:).fulfillmentOrders` and
 * `fulfillmentOrderHold` (a handle unique per fulfillment order). A variables shape the real API
 * would refuse gets a top-level GraphQL error, as Shopify answers an invalid variable. Failures are
 * scripted per request: THROTTLED (200 with the cost extension), 429 with Retry-After, 500, and
 * `lost` (the request takes effect, then the answer is a 502, as when a proxy drops it).
 */

export type Failure = 'throttled' | '429' | '500' | 'lost'

export interface ShopDiscount {
  id: string
  type: 'basic' | 'free_shipping'
  input: Record<string, any>
}

export interface ShopFulfillmentOrder {
  id: string
  status: 'OPEN' | 'IN_PROGRESS' | 'ON_HOLD' | 'CLOSED' | 'CANCELLED' | 'SCHEDULED'
  holds: Array<{ reason: string; reasonNotes: string | null; handle: string | null }>
}

export interface ShopifyStandIn {
  url: string
  /** the Admin API base for a connector's api_url */
  apiUrl: string
  requests: Array<{ path: string; token: string | undefined; operation: string; body: any }>
  discounts: ShopDiscount[]
  /** order GID → its fulfillment orders */
  orders: Map<string, ShopFulfillmentOrder[]>
  /** failures for the next requests, in order (null: answer that one as usual) */
  failures: Array<Failure | null>
  /** product GID → what productUpdate / productVariantsBulkUpdate set (mutation syncProduct) */
  products: Map<string, { status?: string; descriptionHtml?: string; variants: Record<string, { price: string; compareAtPrice: string | null }> }>
  close(): Promise<void>
}

const HOLD_REASONS = new Set([
  'AWAITING_PAYMENT',
  'HIGH_RISK_OF_FRAUD',
  'INCORRECT_ADDRESS',
  'INVENTORY_OUT_OF_STOCK',
  'OTHER',
  'AWAITING_RETURN_ITEMS',
  'UNKNOWN_DELIVERY_DATE',
])
const DECIMAL = /^\d+(\.\d+)?$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

export async function startShopifyStandIn(token: string): Promise<ShopifyStandIn> {
  const state: Omit<ShopifyStandIn, 'url' | 'apiUrl' | 'close'> = { requests: [], discounts: [], orders: new Map(), failures: [], products: new Map() }
  let seq = 0

  const invalid = (name: string, problem: string) => ({
    errors: [
      {
        message: `Variable $${name} of type was provided invalid value: ${problem}`,
        extensions: { code: 'INVALID_VARIABLE', problems: [{ explanation: problem }] },
      },
    ],
  })

  const checkCommon = (name: string, d: any, free: boolean): string | null => {
    if (!d || typeof d !== 'object') return 'expected an object'
    if (typeof d.code !== 'string' || d.code === '') return 'code is required'
    if (typeof d.title !== 'string' || d.title === '') return 'title is required'
    if (typeof d.startsAt !== 'string' || !ISO.test(d.startsAt)) return 'startsAt must be a DateTime'
    if (d.endsAt != null && (typeof d.endsAt !== 'string' || !ISO.test(d.endsAt))) return 'endsAt must be a DateTime'
    if (d.customerSelection?.all !== true && d.context === undefined) return 'customerSelection (or context) is required'
    if (d.usageLimit != null && (!Number.isInteger(d.usageLimit) || d.usageLimit < 1)) return 'usageLimit must be a positive Int'
    const min = d.minimumRequirement?.subtotal?.greaterThanOrEqualToSubtotal
    if (d.minimumRequirement !== undefined && (typeof min !== 'string' || !DECIMAL.test(min)))
      return 'minimumRequirement.subtotal.greaterThanOrEqualToSubtotal must be a Decimal'
    if (free) {
      if (d.destination?.all !== true) return 'destination is required'
      if (d.customerGets !== undefined) return `customerGets is not a field of ${name}`
    } else {
      const value = d.customerGets?.value
      if (d.customerGets?.items?.all !== true) return 'customerGets.items is required'
      const pct = value?.percentage
      const amount = value?.discountAmount
      if ((pct === undefined) === (amount === undefined)) return 'customerGets.value needs percentage or discountAmount'
      if (pct !== undefined && (typeof pct !== 'number' || pct <= 0 || pct > 1)) return 'percentage must be between 0.00 and 1.00'
      if (amount !== undefined && (typeof amount.amount !== 'string' || !DECIMAL.test(amount.amount))) return 'discountAmount.amount must be a Decimal'
    }
    return null
  }

  const create = (variable: string, type: ShopDiscount['type'], payloadName: string, input: any) => {
    const problem = checkCommon(variable, input, type === 'free_shipping')
    if (problem) return invalid(variable, problem)
    if (state.discounts.some((x) => x.input.code.toUpperCase() === input.code.toUpperCase())) {
      return {
        data: {
          [payloadName]: {
            codeDiscountNode: null,
            userErrors: [{ field: [variable, 'code'], code: 'TAKEN', message: 'Code must be unique. Please try a different code.' }],
          },
        },
      }
    }
    const id = `gid://shopify/DiscountCodeNode/${++seq}`
    state.discounts.push({ id, type, input })
    return { data: { [payloadName]: { codeDiscountNode: { id }, userErrors: [] } } }
  }

  const answer = (query: string, v: any): any => {
    if (/^\s*mutation discountCodeBasicCreate\b/.test(query)) return create('basicCodeDiscount', 'basic', 'discountCodeBasicCreate', v?.basicCodeDiscount)
    if (/^\s*mutation discountCodeFreeShippingCreate\b/.test(query))
      return create('freeShippingCodeDiscount', 'free_shipping', 'discountCodeFreeShippingCreate', v?.freeShippingCodeDiscount)
    if (/^\s*query codeDiscountNodeByCode\b/.test(query)) {
      if (typeof v?.code !== 'string') return invalid('code', 'code is required')
      const hit = state.discounts.find((x) => x.input.code.toUpperCase() === v.code.toUpperCase())
      return { data: { codeDiscountNodeByCode: hit ? { id: hit.id } : null } }
    }
    if (/^\s*query orderFulfillmentOrders\b/.test(query)) {
      if (typeof v?.id !== 'string' || !v.id.startsWith('gid://shopify/Order/')) return invalid('id', 'id must be an Order GID')
      const fos = state.orders.get(v.id)
      if (!fos) return { data: { order: null } }
      return {
        data: {
          order: {
            id: v.id,
            fulfillmentOrders: {
              nodes: fos.map((fo) => ({
                id: fo.id,
                status: fo.status,
                // 2025-01: an open, in-progress or held fulfillment order may take (another) hold
                supportedActions: ['OPEN', 'IN_PROGRESS', 'ON_HOLD'].includes(fo.status) ? [{ action: 'HOLD' }, { action: 'CREATE_FULFILLMENT' }] : [],
                fulfillmentHolds: fo.holds.map((h) => ({ handle: h.handle })),
              })),
            },
          },
        },
      }
    }
    if (/^\s*mutation fulfillmentOrderHold\b/.test(query)) {
      const hold = v?.fulfillmentHold
      if (typeof v?.id !== 'string') return invalid('id', 'id is required')
      if (!hold || !HOLD_REASONS.has(hold.reason)) return invalid('fulfillmentHold', 'reason must be a FulfillmentHoldReason')
      const fo = [...state.orders.values()].flat().find((f) => f.id === v.id)
      const payload = (userErrors: unknown[]) => ({
        data: {
          fulfillmentOrderHold: {
            fulfillmentHold: userErrors.length ? null : { id: `gid://shopify/FulfillmentHold/${++seq}` },
            fulfillmentOrder: fo ? { id: fo.id, status: fo.status } : null,
            userErrors,
          },
        },
      })
      if (!fo) return payload([{ field: ['id'], code: 'FULFILLMENT_ORDER_NOT_FOUND', message: 'Fulfillment order does not exist.' }])
      if (!['OPEN', 'IN_PROGRESS', 'ON_HOLD'].includes(fo.status))
        return payload([{ field: ['id'], code: null, message: 'The fulfillment order cannot be put on hold.' }])
      if (hold.handle && fo.holds.some((h) => h.handle === hold.handle))
        return payload([
          {
            field: ['fulfillmentHold', 'handle'],
            code: 'DUPLICATE_FULFILLMENT_HOLD_HANDLE',
            message: 'The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order.',
          },
        ])
      fo.holds.push({ reason: hold.reason, reasonNotes: hold.reasonNotes ?? null, handle: hold.handle ?? null })
      fo.status = 'ON_HOLD'
      const answered = payload([])
      answered.data.fulfillmentOrderHold.fulfillmentOrder = { id: fo.id, status: fo.status }
      return answered
    }
    if (/^\s*mutation syncProduct\b/.test(query)) {
      // productUpdate(product: ProductUpdateInput!) + productVariantsBulkUpdate(productId, variants) (2025-01)
      const p = v?.product
      if (!p || typeof p.id !== 'string' || !p.id.startsWith('gid://shopify/Product/')) return invalid('product', 'id must be a Product GID')
      if (p.status !== undefined && !['ACTIVE', 'DRAFT', 'ARCHIVED'].includes(p.status)) return invalid('product', 'status must be a ProductStatus')
      if (!Array.isArray(v.variants)) return invalid('variants', 'expected a list')
      for (const x of v.variants) {
        if (typeof x.price !== 'string' || !DECIMAL.test(x.price)) return invalid('variants', 'price must be a Decimal')
        if (x.compareAtPrice != null && (typeof x.compareAtPrice !== 'string' || !DECIMAL.test(x.compareAtPrice)))
          return invalid('variants', 'compareAtPrice must be a Decimal')
      }
      const current = state.products.get(p.id) ?? { variants: {} }
      if (p.status !== undefined) current.status = p.status
      if (p.descriptionHtml !== undefined) current.descriptionHtml = p.descriptionHtml
      for (const x of v.variants) current.variants[x.id] = { price: x.price, compareAtPrice: x.compareAtPrice ?? null }
      state.products.set(p.id, current)
      return {
        data: {
          productUpdate: { product: { id: p.id }, userErrors: [] },
          productVariantsBulkUpdate: { productVariants: v.variants.map((x: any) => ({ id: x.id })), userErrors: [] },
        },
      }
    }
    return { errors: [{ message: `Field '${query.slice(0, 40)}' doesn't exist`, extensions: { code: 'undefinedField' } }] }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
      let body: any = null
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        return send(400, { errors: 'Bad Request' })
      }
      const tokenHeader = req.headers['x-shopify-access-token'] as string | undefined
      const query = typeof body?.query === 'string' ? body.query : ''
      const operation = /^\s*(?:mutation|query)\s+(\w+)/.exec(query)?.[1] ?? '?'
      state.requests.push({ path: req.url ?? '', token: tokenHeader, operation, body })
      if (req.method !== 'POST' || !/^\/admin\/api\/\d{4}-\d{2}\/graphql\.json$/.test(req.url ?? '')) return send(404, { errors: 'Not Found' })
      if (tokenHeader !== token) return send(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' })
      if (req.headers['content-type'] !== 'application/json') return send(415, { errors: 'Unsupported Media Type' })
      const failure = state.failures.shift()
      if (failure === 'throttled') {
        return send(200, {
          errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
          extensions: {
            cost: { requestedQueryCost: 110, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 10, restoreRate: 100 } },
          },
        })
      }
      if (failure === '429')
        return send(
          429,
          { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' },
          { 'retry-after': '2.0' },
        )
      if (failure === '500') return send(500, { errors: 'Internal Server Error' })
      const answered = answer(query, body.variables)
      if (failure === 'lost') return send(502, { errors: 'Bad Gateway' })
      return send(200, answered)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return Object.assign(state, {
    url,
    apiUrl: `${url}/admin/api/2025-01`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  })
}
