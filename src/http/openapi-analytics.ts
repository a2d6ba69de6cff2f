/** The analytics endpoints in the OpenAPI document (openapi.ts spreads them in); docs/insight.md explains the figures. */

const counts = (names: string[], description: string) => ({
  type: 'object',
  description,
  properties: Object.fromEntries(names.map((n) => [n, { type: 'integer' }])),
})
const runs = counts(['started', 'completed', 'exited', 'failed'], 'runs that started, and ended so, in the range (day in the store time zone)')
const messages = counts(['sent', 'delivered', 'opened', 'clicked', 'unsubscribed', 'bounced'], 'messages of the workflow, counted on the day each happened')
const daily = {
  type: 'array',
  description: 'one entry per day of the range, zeros included',
  items: {
    type: 'object',
    properties: {
      date: { type: 'string', description: 'YYYY-MM-DD in the store time zone' },
      runs: { type: 'integer', description: 'runs started' },
      sent: { type: 'integer' },
      revenue: { type: 'number', description: 'attributed revenue, store currency' },
    },
  },
}
const groupFigures = {
  type: 'object',
  properties: {
    customers: { type: 'integer', description: 'customers whose first entry in the range was in this group' },
    conversion: { type: 'number', description: 'share who ordered within the attribution window after that entry, 0..1' },
    revenue_per_customer: { type: 'number', description: "the group's order revenue (total − refunds) in that window ÷ all its customers" },
    conversions: { type: 'integer' },
    revenue: { type: 'number' },
  },
}
const estimate = { type: ['object', 'null'], properties: { value: { type: 'number' }, ci95: { type: 'array', items: { type: 'number' } } } }
const method = { type: 'object', description: 'studentized bootstrap: resamples, seed, confidence' }

export const workflowAnalyticsSchema = {
  type: 'object',
  description: [
    'Counters from the per-day table (runs, messages, attributed orders and revenue over the range), and from the runs and orders themselves:',
    'customers who entered the workflow in the range, each measured over the attribution window (settings) after their first entry there, treated against the holdout group',
    'and per variant of the first split. lift = revenue per customer treated ÷ control − 1 with its 95% interval; under 100 customers or 30 conversions in a group',
    'enough_data is false and every estimate is null (docs/insight.md).',
  ].join(' '),
  properties: {
    workflow: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
    from: { type: 'string', description: 'YYYY-MM-DD' },
    to: { type: 'string', description: 'YYYY-MM-DD, inclusive' },
    currency: { type: 'string' },
    timezone: { type: 'string' },
    attribution_window: { type: 'string', description: 'the setting the outcomes were measured with, like "5d"' },
    runs,
    messages,
    orders_attributed: { type: 'integer' },
    revenue_attributed: { type: 'number', description: 'store currency, refunds taken off' },
    holdout: {
      type: ['object', 'null'],
      description: 'null when the workflow has no holdout',
      properties: {
        treated: groupFigures,
        control: groupFigures,
        lift: { type: ['number', 'null'] },
        ci95: { type: ['array', 'null'], items: { type: 'number' } },
        enough_data: { type: 'boolean' },
        revenue_difference: estimate,
        conversion_difference: estimate,
        sample_needed: { type: ['integer', 'null'], description: 'customers per group to tell the observed difference (80% power)' },
        method,
      },
    },
    variants: {
      type: ['array', 'null'],
      description: 'per variant of the split (null without one): the group figures with the variant id',
      items: { ...groupFigures, properties: { id: { type: 'string' }, ...groupFigures.properties } },
    },
    split: {
      type: ['object', 'null'],
      description:
        'the split compared: step_id, enough_data, leader, winner (once every interval of its revenue difference is above 0), comparisons, sample_needed_per_variant, method',
    },
    steps: {
      type: 'array',
      description: 'per step that counted anything: id, the message counters, orders_attributed, revenue_attributed',
      items: { type: 'object' },
    },
    daily,
  },
}

export const overviewAnalyticsSchema = {
  type: 'object',
  description: "The store's counters over all its workflows in the range, and each workflow's runs, sends and attributed revenue.",
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    currency: { type: 'string' },
    timezone: { type: 'string' },
    runs,
    messages,
    orders_attributed: { type: 'integer' },
    revenue_attributed: { type: 'number' },
    workflows: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          runs: { type: 'integer' },
          sent: { type: 'integer' },
          orders_attributed: { type: 'integer' },
          revenue_attributed: { type: 'number' },
        },
      },
    },
    daily,
  },
}

export function analyticsPaths(ok: (description: string, schema?: object) => object, error: object) {
  const range = [
    {
      name: 'from',
      in: 'query',
      description: 'first day, YYYY-MM-DD (or an ISO time: its day in the store time zone); default 29 days before to',
      schema: { type: 'string' },
    },
    {
      name: 'to',
      in: 'query',
      description: 'last day, inclusive; default today in the store time zone; at most 366 days from from',
      schema: { type: 'string' },
    },
  ]
  const bad = ok('a bad from or to (not a date, to before from, more than 366 days), naming the field', error)
  return {
    '/api/v1/analytics/workflows/{id}': {
      get: {
        summary: "A workflow's runs, messages, attributed orders and revenue, holdout lift and split variants over from..to (read)",
        parameters: range,
        responses: { 200: ok('the report', { $ref: '#/components/schemas/WorkflowAnalytics' }), 400: bad, 404: ok('no such workflow in this store', error) },
      },
    },
    '/api/v1/analytics/overview': {
      get: {
        summary: "The store's runs, messages, attributed orders and revenue over from..to, per day and per workflow (read)",
        parameters: range,
        responses: { 200: ok('the overview', { $ref: '#/components/schemas/OverviewAnalytics' }), 400: bad },
      },
    },
  }
}
