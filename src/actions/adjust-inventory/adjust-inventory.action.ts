import { z } from 'zod'
import { defineAction } from '../../plugin-api/index.ts'

const STOCK_LIMIT = 1_000_000_000

const input = z
  .object({
    sku: z.string().trim().min(1).max(200).describe('The SKU whose stock changes'),
    delta: z.number().int().min(-STOCK_LIMIT).max(STOCK_LIMIT).optional().describe('Units to add to the level (negative to take off). Give this or `set`.'),
    set: z.number().int().min(-STOCK_LIMIT).max(STOCK_LIMIT).optional().describe('The level to set, in units. Give this or `delta`.'),
    location_id: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe("The location whose level changes. Default: `default` if the SKU has it, else the SKU's first location by id."),
    reason: z.string().max(200).optional().describe('Why, kept with the adjustment. Default: none.'),
  })
  .superRefine((v, ctx) => {
    if ((v.delta === undefined) === (v.set === undefined)) ctx.addIssue({ code: 'custom', path: ['delta'], message: 'give exactly one of delta: N or set: N' })
  })

const output = z.object({
  sku: z.string(),
  location_id: z.string(),
  delta: z.number().describe('What the level moved by'),
  available: z.number().describe("The location's level after"),
  total: z.number().describe("The SKU's total available after, across locations"),
})

export const adjustInventory = defineAction({
  type: 'adjust_inventory',
  title: 'Adjust inventory',
  description:
    "Changes storeflow's stock level of a SKU at one location, by `delta` or to `set`, once however often the step is tried, and makes the SKU's variants carry the new total across locations. " +
    'When the total crosses below the reorder point, to zero or below, or back above zero, the matching inventory.low, inventory.out_of_stock or inventory.back_in_stock event follows. ' +
    "It changes storeflow's view only: the shop's own stock is not touched.",
  input,
  output,
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [
    { sku: 'MUG-RED', delta: 24, reason: 'restock received' },
    { sku: 'MUG-RED', set: 0, location_id: 'warehouse' },
  ],
  async run({ input: v, idempotencyKey, services }) {
    const result = await services.inventory.adjust({
      idempotencyKey,
      sku: v.sku,
      ...(v.delta !== undefined ? { delta: v.delta } : {}),
      ...(v.set !== undefined ? { set: v.set } : {}),
      ...(v.location_id !== undefined ? { locationId: v.location_id } : {}),
      reason: v.reason ?? null,
    })
    return { sku: result.sku, location_id: result.location_id, delta: result.delta, available: result.available, total: result.total }
  },
})
