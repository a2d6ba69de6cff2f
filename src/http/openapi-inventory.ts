/** The inventory endpoints in the OpenAPI document (openapi.ts spreads them in). */

export const inventoryForecastSchema = {
  type: 'object',
  description: [
    'A SKU forecast from its daily demand (units per day in the store time zone, kept as orders arrive, live and imported: an order counts once on the day it was created, a cancelled one is taken off).',
    'The method is chosen per SKU from its history: `tsb` (Teunter-Syntetos-Babai) when demand is intermittent (more than 1.32 days per day with a sale on average), `holt_winters` (additive, damped trend, 7-day season) for a regular series of at least two weeks, `ses` (simple exponential smoothing) for a shorter one, `none` without sales in the last 365 days.',
    'reorder_point = forecast demand over the lead time + z(service level) × standard deviation of daily demand × √(lead time), rounded up; a manual one (PUT /api/v1/inventory/{sku}/reorder-point) is shown instead when set.',
    'suggested_quantity = forecast demand over lead time + review period (14 days) + safety stock − available, rounded up, 0 when nothing is needed.',
  ].join(' '),
  properties: {
    sku: { type: 'string' },
    available: { type: 'integer', description: 'units available now (the shop counts, less the orders since)' },
    daily_demand: { type: 'number', description: 'mean forecast units per day over the horizon' },
    method: { type: 'string', enum: ['tsb', 'holt_winters', 'ses', 'none'] },
    forecast: { type: 'array', items: { type: 'object', properties: { date: { type: 'string', description: 'YYYY-MM-DD' }, quantity: { type: 'number' } } } },
    days_of_cover: { type: ['number', 'null'], description: 'available ÷ daily_demand, days; null when nothing is expected to sell' },
    reorder_point: { type: 'integer', description: 'units; inventory.low is derived when stock falls below it' },
    suggested_quantity: { type: 'integer', description: 'units to order now' },
  },
}

export function inventoryPaths(ok: (description: string, schema?: object) => object, error: object) {
  const q = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string' } })
  return {
    '/api/v1/inventory/forecast': {
      get: {
        summary:
          'Demand forecast of one SKU (?sku=), or without sku every SKU of the store, fewest days of cover first (paged). ' +
          'as_of YYYY-MM-DD (default today in the store time zone) is the last day of history used; the forecast covers horizon days (1 to 365, default 28) from the day after',
        parameters: [
          q('sku', 'the SKU; absent: the list'),
          q('as_of', 'YYYY-MM-DD; default today in the store time zone'),
          q('horizon', 'days, 1 to 365; default 28'),
          q('lead_time_days', "the supplier's lead time, days, 0 to 365; default 7"),
          q('service_level', 'chance of no stock-out during a lead time, 0.5 to 0.9999; default 0.95 (z = 1.645)'),
          q('limit', 'list page size'),
          q('cursor', 'list cursor'),
        ],
        responses: {
          200: ok('the forecast (with sku), else { items, next_cursor } of them', { $ref: '#/components/schemas/InventoryForecast' }),
          400: ok('a bad as_of, horizon, lead_time_days or service_level, naming the field', error),
          404: ok('the store knows no such SKU', error),
        },
      },
    },
    '/api/v1/inventory/{sku}/reorder-point': {
      put: {
        summary:
          "Set a manual reorder point { reorder_point } in units (admin); it wins over the forecast's. null goes back to the forecast. Crossings are judged at the SKU's next stock change",
        responses: { 200: ok('{ sku, reorder_point }'), 400: ok('invalid, naming reorder_point', error) },
      },
    },
  }
}
