import { z } from 'zod'
import { addMoney, normaliseMoney } from '../../lib/money.ts'
import { defineAction, PermanentError, type ProductPatch } from '../../plugin-api/index.ts'

const money = z
  .union([z.string(), z.number()])
  // not negative: a template's markdown larger than the price would otherwise reach the shop
  .refine((v) => normaliseMoney(v) !== null && !normaliseMoney(v)!.startsWith('-'), 'must be an amount like 19.99, not negative')
  // exact, in the catalogue's form: at least two decimals ("15.5" -> "15.50")
  .transform((v) => canonicalMoney(v) as string)

function canonicalMoney(v: unknown): string | null {
  const text = normaliseMoney(v)
  return text === null ? null : addMoney(text, '0')
}

export const updateProduct = defineAction({
  type: 'update_product',
  title: 'Update product',
  description:
    "Changes a product in storeflow's catalogue: price and/or compare-at price (of the variant named by `sku` or `variant_id`, else of every variant), description, status (active, draft, archived). The change is stamped with the run's time as the product's updated_at, so a product.updated from the shop that is older than it changes nothing, and a newer one wins. Output: { product_id, changes: [{ field, variant_id?, from, to }] }. To send the change to the sales channels, follow it with sync_channels.",
  input: z
    .object({
      product_id: z
        .union([z.string().min(1), z.number()])
        .transform(String)
        .describe('The product to change'),
      sku: z.string().min(1).optional().describe('Only the variant with this SKU'),
      variant_id: z
        .union([z.string().min(1), z.number()])
        .transform(String)
        .optional()
        .describe('Only this variant'),
      price: money.optional().describe('New price (exact decimal)'),
      compare_at_price: money.nullable().optional().describe('New compare-at ("was") price; null removes it'),
      description: z.string().max(65_535).optional().describe('New description (HTML as the shop takes it)'),
      status: z.enum(['active', 'draft', 'archived']).optional().describe('New status'),
    })
    .refine(
      (i) => [i.price, i.compare_at_price, i.description, i.status].some((v) => v !== undefined),
      'give at least one of price, compare_at_price, description, status',
    )
    .refine((i) => !(i.sku && i.variant_id), 'give sku or variant_id, not both'),
  output: z.object({
    product_id: z.string(),
    changes: z.array(z.object({ field: z.string(), variant_id: z.string().optional(), from: z.string().nullable(), to: z.string().nullable() })),
  }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{ product_id: '{{ event.data.id }}', price: '19.99', compare_at_price: '24.99' }],
  async run({ input, services, clock }) {
    const product = await services.catalogue.product(input.product_id)
    if (!product) throw new PermanentError(`product_id: no product "${input.product_id}" in this store's catalogue`, { reason: 'not_found' })
    const variants = product.variants.filter((v) => (input.sku ? v.sku === input.sku : input.variant_id ? v.id === input.variant_id : true))
    if ((input.sku || input.variant_id) && variants.length === 0)
      throw new PermanentError(`${input.sku ? 'sku' : 'variant_id'}: no such variant of product "${product.id}"`, { reason: 'not_found' })
    const changes: Array<{ field: string; variant_id?: string; from: string | null; to: string | null }> = []
    const patch: ProductPatch = { variants: [] }
    for (const v of variants) {
      const change: { id: string; price?: string; compare_at_price?: string | null } = { id: v.id }
      if (input.price !== undefined && canonicalMoney(v.price) !== input.price) {
        change.price = input.price
        changes.push({ field: 'price', variant_id: v.id, from: v.price, to: input.price })
      }
      if (input.compare_at_price !== undefined && canonicalMoney(v.compare_at_price) !== input.compare_at_price) {
        change.compare_at_price = input.compare_at_price
        changes.push({ field: 'compare_at_price', variant_id: v.id, from: v.compare_at_price, to: input.compare_at_price })
      }
      if (Object.keys(change).length > 1) patch.variants?.push(change)
    }
    if (input.description !== undefined && input.description !== product.description) {
      patch.description = input.description
      changes.push({ field: 'description', from: product.description, to: input.description })
    }
    if (input.status !== undefined && input.status !== product.status) {
      patch.status = input.status
      changes.push({ field: 'status', from: product.status, to: input.status })
    }
    if (changes.length > 0) await services.catalogue.updateProduct(product.id, patch, clock.now())
    return { product_id: product.id, changes }
  },
})
