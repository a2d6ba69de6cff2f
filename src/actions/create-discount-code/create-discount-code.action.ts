import { z } from 'zod'
import { isDuration, parseDuration } from '../../lib/durations.ts'
import { addMoney, moneyText } from '../../lib/money.ts'
import { percentOfMoney } from '../../lib/money-scale.ts'
import { defineAction, SkipStep, type DiscountKind } from '../../plugin-api/index.ts'
import { newDiscountCode } from './code.ts'
import { createInShop } from './shop.ts'

const money = (what: string) =>
  z.union([z.number(), z.string()]).refine((v) => {
    const text = moneyText(v)
    return text !== null && !text.startsWith('-')
  }, `${what} must be an amount of money of at least 0, like 10 or "10.00"`)

const input = z
  .object({
    percent: z
      .number()
      .gt(0, 'percent must be more than 0')
      .lte(100, 'percent must be at most 100')
      .optional()
      .describe('Percent off the order, more than 0 and at most 100. Give `percent` or `amount`, or neither with `free_shipping: true`.'),
    amount: money('amount')
      .optional()
      .describe('A fixed amount off, in the store\'s currency and major units (10 or "10.00"). Give `percent` or `amount`, not both.'),
    free_shipping: z.boolean().optional().describe('The code also (or only) takes off shipping. Default false.'),
    expires_in: z
      .string()
      .refine(isDuration, 'expires_in must be a duration like "48h" or "7d"')
      .optional()
      .describe('How long the code is valid from when it is issued, like "48h" or "7d". Default: it does not expire.'),
    min_spend: money('min_spend').optional().describe("The least an order must come to for the code to apply, in the store's currency. Default: none."),
    usage_limit: z.number().int().min(1).max(1_000_000).optional().describe('How many orders may use the code. Default 1.'),
    budget: money('budget')
      .optional()
      .describe(
        "The total value this workflow may issue in this store, in the store's currency: an amount code counts its amount, a percent code that percentage of the triggering order's or cart's total_price (0 when the run is about neither), a code for free shipping alone 0. A step that would pass it is skipped with the reason `budget_exhausted`. Default: no budget.",
      ),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$/, 'prefix must be 1 to 20 letters, digits, "-" or "_", starting with a letter or digit')
      .optional()
      .describe('Text the code starts with, upper-cased (`WELCOME-` gives `WELCOME-7KQ2M9XHT4PA`). Default: none.'),
  })
  .superRefine((v, ctx) => {
    if (v.percent !== undefined && v.amount !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['amount'], message: 'give percent or amount, not both' })
    } else if (v.percent === undefined && v.amount === undefined && v.free_shipping !== true) {
      ctx.addIssue({ code: 'custom', path: ['percent'], message: 'give percent: N or amount: N, or free_shipping: true' })
    }
  })

const output = z.object({
  code: z.string(),
  kind: z.enum(['percent', 'amount', 'free_shipping']),
  /** the percent or the amount; null for free shipping alone */
  value: z.number().nullable(),
  free_shipping: z.boolean(),
  expires_at: z.string().nullable(),
  min_spend: z.number().nullable(),
  usage_limit: z.number(),
  /** created: in the store's Shopify shop by this attempt; already_created: by an earlier attempt of the step; not_connected: no Shopify connector with an access token; dry_run: simulate */
  shop: z.enum(['created', 'already_created', 'not_connected', 'dry_run']),
  /** the shop's id for the discount (`gid://shopify/DiscountCodeNode/…`), or null */
  shop_discount_id: z.string().nullable(),
})

export const createDiscountCode = defineAction({
  type: 'create_discount_code',
  title: 'Create discount code',
  description:
    'Issues a unique, unguessable discount code for the customer (12 random letters and digits after an optional prefix), stored in storeflow and listed by GET /api/v1/discount-codes. ' +
    'Templates use it as `{{ steps.<id>.code }}`. The step issues one code however often it is tried. An order carrying the code in `discount_codes` counts it used, once per order. ' +
    'With a `budget`, the step is skipped (reason `budget_exhausted`, naming the budget) once this workflow would issue more than it allows. ' +
    'When the store has a Shopify connector with an access token, the code is then created in the shop so customers can redeem it there (GraphQL Admin API `discountCodeBasicCreate` for percent and amount codes, `discountCodeFreeShippingCreate` for free shipping alone; for all customers and all items, with the min spend as a minimum subtotal, the usage limit and the expiry; the token needs the write_discounts and read_discounts scopes). Shopify holds one discount per code, so a percent or amount code with `free_shipping: true` carries only its percent or amount in the shop. ' +
    'A retried step creates nothing twice: it issues the same code and finds it in the shop (`shop: already_created`). Output `shop`: `created` with `shop_discount_id`, `already_created`, or `not_connected` when there is no such connector. ' +
    'Shopify throttling (THROTTLED, 429) and outages (5xx) retry the step after the wait Shopify asks; a refused token (401) fails it, naming the connector. Under simulate the step shows a code of the shape it would issue, stores nothing, does not consult the budget and does not call the shop (`shop: dry_run`).',
  input,
  output,
  effects: 'external',
  simulate: 'dry_run',
  retry: { safe: true },
  examples: [{ percent: 10, expires_in: '7d' }, { amount: '15.00', min_spend: 50, usage_limit: 1, budget: 500, prefix: 'THANKS-' }, { free_shipping: true }],
  async run({ input: v, run, customer, scope, clock, services, idempotencyKey, dryRun }) {
    const kind: DiscountKind = v.percent !== undefined ? 'percent' : v.amount !== undefined ? 'amount' : 'free_shipping'
    const value = v.percent !== undefined ? String(v.percent) : v.amount !== undefined ? addMoney(moneyText(v.amount)!, '0') : '0'
    const issuedValue = kind === 'amount' ? value : kind === 'percent' ? percentOfMoney(discountSubjectTotal(scope) ?? '0', value) : '0.00'
    const minSpend = v.min_spend !== undefined ? addMoney(moneyText(v.min_spend)!, '0') : null
    const expiresAt = v.expires_in ? new Date(clock.now().getTime() + parseDuration(v.expires_in, 'expires_in')).toISOString() : null
    if (dryRun) {
      // simulate: a code of the shape it would issue; nothing stored, the budget not consulted, the shop not called
      return {
        code: newDiscountCode(v.prefix),
        kind,
        value: kind === 'free_shipping' ? null : Number(value),
        free_shipping: v.free_shipping === true,
        expires_at: expiresAt,
        min_spend: minSpend === null ? null : Number(minSpend),
        usage_limit: v.usage_limit ?? 1,
        shop: 'dry_run' as const,
        shop_discount_id: null,
      }
    }
    const result = await services.discounts.issue({
      runId: run.id,
      stepKey: run.stepKey,
      workflowId: run.workflowId,
      customerKey: customer?.key ?? null,
      kind,
      value,
      freeShipping: v.free_shipping === true,
      minSpend,
      expiresAt,
      usageLimit: v.usage_limit ?? 1,
      issuedValue,
      budget: v.budget !== undefined ? moneyText(v.budget) : null,
      newCode: () => newDiscountCode(v.prefix),
    })
    if (result.status === 'over_budget') {
      throw new SkipStep(
        `budget_exhausted: this workflow's discount budget of ${result.budget} is used up (${result.issued} issued; this code would add ${issuedValue})`,
        {
          budget: Number(result.budget),
          issued: Number(result.issued),
        },
      )
    }
    const c = result.code
    // storeflow's code first, then the shop: a retry issues nothing new and creates the same code there
    const shop = await createInShop(services, c, { workflowId: run.workflowId, idempotencyKey, startsAt: clock.now().toISOString() })
    return {
      code: c.code,
      kind: c.kind,
      value: c.kind === 'free_shipping' ? null : Number(c.value),
      free_shipping: c.freeShipping,
      expires_at: c.expiresAt,
      min_spend: c.minSpend === null ? null : Number(c.minSpend),
      usage_limit: c.usageLimit,
      shop: shop.shop,
      shop_discount_id: shop.id,
    }
  },
})

/** total_price of the order or cart the run's trigger is about (the store's view), else of the trigger event. */
export function discountSubjectTotal(scope: Record<string, unknown>): string | null {
  const order = scope.order as { total_price?: unknown } | null | undefined
  const cart = scope.cart as { total_price?: unknown } | null | undefined
  const trigger = scope.trigger as { data?: { total_price?: unknown } } | null | undefined
  for (const total of [order?.total_price, cart?.total_price, trigger?.data?.total_price]) {
    const text = total === undefined || total === null ? null : moneyText(total)
    if (text !== null) return text
  }
  return null
}
