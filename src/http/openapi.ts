import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { eventEnvelopeSchema } from '../contracts/events.ts'
import { settingsPatchSchema } from '../contracts/settings.ts'
import { inventoryForecastSchema, inventoryPaths } from './openapi-inventory.ts'
import { storeAdminPaths } from './openapi-store-admin.ts'
import { analyticsPaths, overviewAnalyticsSchema, workflowAnalyticsSchema } from './openapi-analytics.ts'

const listOf = (item: object) => ({ type: 'object', properties: { items: { type: 'array', items: item }, next_cursor: { type: ['string', 'null'] } } })
const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } } }

/** A segment as GET /api/v1/segments lists it (store/segments.repo.ts holds the rules described here). */
const segment = {
  type: 'object',
  description: [
    'A named CEL condition over `customer` (the profile, as in workflow conditions, plus `customer.days_since_last_order` and `customer.days_since_created`, whole days by the engine clock, null without an order). It must give true or false: one that gives another type over a customer (`customer.email`, not `customer.email != ""`) is refused when saved.',
    'Membership is kept current: re-evaluated for the customer of every event routed (after the view took it) and for every customer by a daily sweep at 03:30 in the store time zone, which first recomputes RFM.',
    'Each change is one `segment.entered` or `segment.exited` event `{ segment: { id, name }, customer: { id, key } }` (the shop id and storeflow key; the run sees the whole profile as `customer`), id `segment.entered:<segment>:<customer key>:<n>` for the n-th entry, so it is recorded once; history imported with `?history=true` moves membership as historical events that start no runs.',
    'Built in, in every store, not deletable: `new` (`customer.orders_count == 1 && customer.days_since_last_order < 30`: first order within 30 days; no order yet is not new), `repeat` (`customer.orders_count >= 2`), `high-value` (`customer.total_spent >= 500.0`), `at-risk` (`customer.rfm.r <= 2 && customer.rfm.f >= 3`), `lapsed` (at least one order and none for `inactive_after`, default 90 days), `vip` (`customer.rfm.r >= 4 && customer.rfm.f >= 4 && customer.rfm.m >= 4`).',
    'RFM on the profile: `rfm: { r, f, m, score }`, each 1 to 5 among the store customers with at least one order, by recency (`last_order_at`), frequency (`orders_count`) and monetary value (`total_spent`): 1 + floor(5 × customers with a lower value ÷ customers with an order), so equal values score the same; `score` is the three digits as a string (`"545"`); null without an order. The daily sweep recomputes everyone; in between, a customer an event is about is scored against where each score started at the last sweep.',
  ].join(' '),
  properties: {
    id: { type: 'string', description: 'lowercase letters, digits, - and _, up to 64; never one of the built-in ids' },
    name: { type: 'string', description: 'shown in lists and in the events' },
    condition: { type: 'string', description: 'CEL over `customer`; one that does not compile is refused with 400 naming `condition`' },
    size: { type: 'integer', description: 'customers in the segment now' },
    built_in: { type: 'boolean', description: 'true for the segments every store has' },
  },
}

/** The dashboard's sign-in routes (routes/auth.ts). */
function authPaths(ok: (description: string, schema?: object) => object, err: object) {
  const user = { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } } }
  return {
    '/api/v1/auth/login': {
      post: {
        summary:
          'Sign in to the dashboard with { email, password }: answers { user, csrf_token } and sets the session cookie storeflow_session (HttpOnly, SameSite=Strict, Path=/, Secure over TLS; STOREFLOW_TRUST_PROXY=1 honours X-Forwarded-Proto). A session ends after 12 hours unused or 7 days after sign-in. Failed sign-ins are rate limited: 5 per email and client, 20 per client, in 15 minutes',
        security: [],
        requestBody: {
          content: {
            'application/json': {
              schema: { type: 'object', required: ['email', 'password'], properties: { email: { type: 'string' }, password: { type: 'string' } } },
            },
          },
        },
        responses: {
          200: ok('signed in', { type: 'object', properties: { user, csrf_token: { type: 'string' } } }),
          400: ok('a field is missing or not a string (the message names it)', err),
          401: ok('wrong email or password (the same answer for both)', err),
          403: ok('an Origin header naming another host', err),
          429: ok('too many failed sign-ins (Retry-After)', err),
        },
      },
    },
    '/api/v1/auth/session': {
      get: {
        summary: 'The signed-in user, the csrf_token to send as X-CSRF-Token, and the stores to choose from (X-Storeflow-Store)',
        security: [{ session: [] }],
        responses: {
          200: ok('signed in', {
            type: 'object',
            properties: {
              user,
              csrf_token: { type: 'string' },
              stores: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, name: { type: 'string' }, currency: { type: 'string' }, timezone: { type: 'string' } },
                },
              },
            },
          }),
          401: ok('not signed in, or the session ended', err),
        },
      },
    },
    '/api/v1/auth/logout': {
      post: {
        summary: 'Sign out: ends the session and clears the cookie (X-CSRF-Token required)',
        security: [{ session: [] }],
        responses: { 204: { description: 'signed out' }, 401: ok('not signed in', err), 403: ok('missing or wrong X-CSRF-Token', err) },
      },
    },
  }
}

/** The OpenAPI document at /api/openapi.json; request shapes come from the same zod schemas that validate. */
export function registerOpenApi(server: FastifyInstance): void {
  const event = z.toJSONSchema(eventEnvelopeSchema, { io: 'input', unrepresentable: 'any' })
  const settings = z.toJSONSchema(settingsPatchSchema, { unrepresentable: 'any' })
  // the dashboard's session cookie opens every /api/v1 route as the bearer key does (admin of the store X-Storeflow-Store names)
  const auth = [{ bearer: [] }, { session: [] }]
  const ok = (description: string, schema: object = {}) => ({ description, content: { 'application/json': { schema } } })
  const doc = {
    openapi: '3.1.0',
    info: { title: 'storeflow API', version: '1' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'storeflow_session',
          description:
            'The dashboard session from POST /api/v1/auth/login. A signed-in user is the installation admin: every scope, on the store named by the X-Storeflow-Store header (default `default`; an unknown store is 404). POST, PUT, PATCH and DELETE signed in by the cookie must send X-CSRF-Token (the csrf_token) and, with an Origin header, come from this host: else 403.',
        },
      },
      schemas: {
        Event: event,
        Settings: settings,
        Segment: segment,
        Error: error,
        InventoryForecast: inventoryForecastSchema,
        WorkflowAnalytics: workflowAnalyticsSchema,
        OverviewAnalytics: overviewAnalyticsSchema,
      },
    },
    security: auth,
    paths: {
      ...authPaths(ok, error),
      '/api/v1/events': {
        post: {
          summary: 'Ingest one event or { events: [...] }',
          parameters: [{ name: 'history', in: 'query', schema: { type: 'boolean' } }],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/Event' },
                    { type: 'object', properties: { events: { type: 'array', items: { $ref: '#/components/schemas/Event' } } } },
                  ],
                },
              },
            },
          },
          responses: { 202: ok('accepted'), 200: ok('duplicate'), 400: ok('invalid', error), 401: ok('no key', error), 413: ok('too large', error) },
        },
        get: {
          summary: 'Stored events, newest first',
          parameters: ['type', 'customer', 'limit', 'cursor'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: { 200: ok('events', listOf({ type: 'object' })) },
        },
      },
      '/api/v1/workflows': {
        get: { summary: 'Workflows', responses: { 200: ok('list', listOf({ type: 'object' })) } },
        post: {
          summary: 'Create or update from YAML/JSON',
          responses: { 201: ok('created'), 200: ok('unchanged or new version'), 400: ok('invalid, naming the line', error) },
        },
      },
      '/api/v1/workflows/{id}': { get: { summary: 'A workflow with its versions' }, put: { summary: 'Save a new version' }, delete: { summary: 'Delete' } },
      '/api/v1/workflows/{id}/export': { get: { summary: 'As YAML or JSON (?format=)' } },
      '/api/v1/templates': {
        get: {
          summary: 'The built-in template library: { name, title, description, trigger, installable, reason } each, the same for every store',
          responses: { 200: ok('templates', listOf({ type: 'object' })) },
        },
      },
      '/api/v1/templates/{name}/install': {
        post: {
          summary: "Install a template as the store's workflow of the same id (inactive unless it was active before)",
          responses: {
            201: ok('installed'),
            200: ok('a new version, or unchanged'),
            400: ok('not installable here', error),
            404: ok('no such template', error),
          },
        },
      },
      '/api/v1/workflows/validate': {
        post: {
          summary: 'Check a workflow file as a save would (read key): every problem with its line, nothing stored',
          requestBody: {
            content: {
              'application/json': {
                schema: { type: 'object', required: ['source'], properties: { source: { type: 'string', description: 'the workflow as YAML or JSON text' } } },
              },
            },
          },
          responses: {
            200: ok('{ ok, errors: [{ path, line, message }], definition }: definition is the checked file, or as much as reads as YAML', {
              type: 'object',
              properties: {
                ok: { type: 'boolean' },
                errors: {
                  type: 'array',
                  items: { type: 'object', properties: { path: { type: 'string' }, line: { type: ['integer', 'null'] }, message: { type: 'string' } } },
                },
                definition: {},
              },
            }),
            400: ok('no source, naming the field', error),
          },
        },
      },
      '/api/v1/expressions/check': {
        post: {
          summary: 'Compile one CEL expression or Liquid template (read key), as the workflow editor does while typing',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['kind', 'source'],
                  properties: { kind: { type: 'string', enum: ['cel', 'liquid'] }, source: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            200: ok('{ ok, error }', { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: ['string', 'null'] } } }),
            400: ok('bad kind or source, naming the field', error),
          },
        },
      },
      '/api/v1/actions': {
        get: {
          summary:
            "The actions this installation knows: { type, title, description, effects, raw_fields, input } each, input being the JSON Schema of the step's `with`",
          responses: { 200: ok('actions', { type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } }) },
        },
      },
      '/api/v1/workflows/{id}/activate': { post: { summary: 'Activate' } },
      '/api/v1/workflows/{id}/deactivate': { post: { summary: 'Deactivate' } },
      '/api/v1/workflows/{id}/backtest': {
        post: {
          summary: "Backtest the workflow over the store's stored events (admin key): nothing stored, nothing sent",
          description:
            "Replays the store's stored events of the period (from `since` to now) through the stored workflow as if it had been active, on a virtual clock, as `storeflow backtest` does: the customers' view as it stood at each moment, guardrails of the store's other workflows counted (their real marketing mail against the frequency cap). Answers with what it would have done: runs, messages per step, discount codes and their value, the revenue of the customers' real orders within the attribution window after a message, and customers held back by the frequency cap. Only the key's store's events are read; another store's workflow id is 404.",
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    since: { type: 'string', description: 'start of the period: a duration back from now ("90d", the default) or an ISO-8601 date' },
                  },
                },
              },
            },
          },
          responses: {
            200: ok('what the workflow would have done', {
              type: 'object',
              properties: {
                from: { type: 'string', format: 'date-time' },
                to: { type: 'string', format: 'date-time' },
                runs: { type: 'integer' },
                messages_by_step: { type: 'object', additionalProperties: { type: 'integer' } },
                discount_codes: { type: 'integer' },
                discount_value: { type: 'number', description: 'amount codes their amount; percent codes their percent of the order or cart the run is about' },
                revenue_attributed_estimate: {
                  type: 'number',
                  description: "the customers' real orders within attribution_window after a simulated message to them, each once",
                },
                customers_over_cap: { type: 'integer' },
              },
            }),
            400: ok('invalid, naming the field', error),
            404: ok('no such workflow in this store', error),
          },
        },
      },
      '/api/v1/workflows/{id}/test': {
        post: {
          summary: 'Simulate one event through the workflow (admin key): nothing stored, nothing sent',
          description:
            "Dry-runs one event through the stored workflow (its current version, or `version`) on a virtual clock, as `storeflow simulate` does: waits pass instantly, exits, conditions and guardrails (consent, frequency cap, quiet hours) apply, messages are rendered with the store's templates but not sent, external actions (HTTP, shop, chat, SMS) are not performed. Nothing of the store is read into a run or written. Send `event` (the store's own: one naming another store is refused with 400 naming `event.store`) or `event_id` (one of the store's stored events; another store's is 404). `at` is the virtual start time, default the event's `occurred_at`.",
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    event: { $ref: '#/components/schemas/Event' },
                    event_id: { type: 'string', description: "a stored event of the key's store; instead of event" },
                    version: { type: 'integer', minimum: 1, description: "the workflow's version; default the current one" },
                    at: { type: 'string', format: 'date-time', description: "virtual start time; default the event's occurred_at" },
                  },
                },
              },
            },
          },
          responses: {
            200: ok('the simulated run', {
              type: 'object',
              properties: {
                started: { type: 'boolean', description: 'false when the trigger, its filter or `when` did not start a run' },
                run_status: {
                  type: ['string', 'null'],
                  description: 'how the simulated run ended: completed, exited, failed, waiting (for an event that never comes)',
                },
                reason: { type: ['string', 'null'], description: 'why no run started' },
                steps: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      id: { type: 'string' },
                      type: { type: 'string', description: 'the action (send_email) or the step kind (wait, if, …)' },
                      status: { type: 'string' },
                      at: { type: 'string', description: 'virtual time' },
                      note: { type: 'string', description: 'what happened: waited until, branch, guardrail that skipped it, what was not performed' },
                      output: {
                        description:
                          'what the step recorded, as in a run timeline (the skip reason of a guardrail, the request a dry run did not make), or null',
                      },
                    },
                  },
                },
                messages: {
                  type: 'array',
                  items: { type: 'object', properties: { to: { type: 'string' }, subject: { type: 'string' }, html: { type: 'string' } } },
                },
              },
            }),
            400: ok('invalid, naming the field', error),
            404: ok('no such workflow, version or event in this store', error),
          },
        },
      },
      '/api/v1/runs': { get: { summary: 'Runs (?workflow=&status=&customer=)', responses: { 200: ok('runs', listOf({ type: 'object' })) } } },
      '/api/v1/runs/{id}': { get: { summary: 'A run with its step timeline' } },
      '/api/v1/runs/{id}/cancel': { post: { summary: 'Cancel a running or waiting run' } },
      '/api/v1/runs/{id}/retry': { post: { summary: 'Retry a failed run from its failed step' } },
      '/api/v1/customers/{id}': { get: { summary: "The store's view of a customer, with `segments` (ids) and `rfm` (see Segment)" } },
      '/api/v1/customers/{id}/recommendations': {
        get: {
          summary:
            "\"Bought together\" SKUs for a customer (the shop's id, storeflow's key or the email), best first, from the store's orders: " +
            "SKUs in the same orders as what the customer bought (their last 20 orders; the store's last 2000 orders, cancelled and their own left out), " +
            'score 0.5 + 0.5 × orders holding the SKU and one of theirs ÷ orders holding one of theirs; then, to fill the limit, the most ordered SKUs of the last 90 days, ' +
            'score 0.5 × orders holding the SKU ÷ orders, so below any co-purchase. SKUs the customer bought and SKUs out of stock (inventory levels summing to 0 or less; ' +
            "without levels, the variants' inventory_quantity) are left out. Titles and product ids from the products, else the newest line item. Send_email templates see the same list (up to 4) as `recommendations`",
          parameters: [{ name: 'limit', in: 'query', description: '1 to 50; default 10', schema: { type: 'string' } }],
          responses: {
            200: ok(
              'recommendations, best first; next_cursor is always null',
              listOf({
                type: 'object',
                properties: { sku: { type: 'string' }, product_id: { type: ['string', 'null'] }, title: { type: 'string' }, score: { type: 'number' } },
              }),
            ),
            400: ok('a bad limit, naming `limit`', error),
            404: ok('no such customer', error),
          },
        },
      },
      '/api/v1/messages': { get: { summary: 'The outbox' } },
      '/api/v1/discount-codes': {
        get: {
          summary: 'Discount codes issued by create_discount_code, newest first (?workflow=&customer=)',
          parameters: ['workflow', 'customer', 'limit', 'cursor'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: {
            200: ok(
              'codes: { code, kind, value, free_shipping, min_spend, expires_at, usage_limit, used, customer_id, workflow_id, created_at }',
              listOf({ type: 'object' }),
            ),
          },
        },
      },
      '/api/v1/invoices': {
        get: {
          summary: 'Invoices made by create_invoice, newest first (?status=open|paid|void&customer=)',
          parameters: ['status', 'customer', 'limit', 'cursor'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: {
            200: ok(
              'invoices: { id, number, status, currency, total, lines, email, issued_at, due_at, paid_at, reference, workflow_id }',
              listOf({ type: 'object' }),
            ),
          },
        },
      },
      '/api/v1/invoices/{id}': { get: { summary: 'An invoice, by its id (inv_…) or number (INV-000042)' } },
      '/api/v1/suppliers': {
        get: {
          summary: 'Suppliers, by id',
          responses: {
            200: ok('suppliers: { id, name, email, lead_time_days, min_order_quantity, skus, created_at, updated_at }', listOf({ type: 'object' })),
          },
        },
        post: {
          summary: 'Create or replace a supplier { id, name, email, lead_time_days, min_order_quantity (units per order line, default 1), skus } (admin)',
          responses: { 201: ok('created'), 200: ok('replaced (same id)'), 400: ok('invalid, naming the field', error) },
        },
      },
      '/api/v1/suppliers/{id}': { get: { summary: 'A supplier' }, delete: { summary: 'Delete a supplier (admin); its purchase orders stay' } },
      '/api/v1/purchase-orders': {
        get: {
          summary: 'Purchase orders made by create_purchase_order, newest first (?status=draft|sent|received&supplier=)',
          parameters: ['status', 'supplier', 'limit', 'cursor'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          responses: {
            200: ok(
              'orders: { id, number, supplier_id, status, lines: [{ sku, quantity, unit_cost, description, received }], created_at, sent_at, received_at, workflow_id, run_id }',
              listOf({ type: 'object' }),
            ),
          },
        },
      },
      '/api/v1/purchase-orders/{id}': { get: { summary: 'A purchase order, by its id (po_…) or number (PO-000042)' } },
      '/api/v1/purchase-orders/{id}/send': {
        post: {
          summary: 'Email a draft to its supplier with the order as a CSV attachment (admin); once per order: again answers email.already_sent',
          responses: {
            200: ok('the order, status sent, with email { message_id, delivery, already_sent, possible_duplicate }'),
            409: ok('received already, or the supplier is gone', error),
          },
        },
      },
      '/api/v1/purchase-orders/{id}/receive': {
        post: {
          summary:
            'Book what arrived { lines: [{ sku, quantity }] } (admin): adds it to stock through a purchase_order.received event; status received once every line is complete. An Idempotency-Key header makes a repeat add nothing (answered duplicate: true); the same key with other lines is a 409',
          parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
          responses: {
            200: ok('the order with receipt_id, duplicate and stock: [{ sku, available }]'),
            400: ok('invalid, more than is outstanding, or stock past 2000000000 units, naming the line', error),
            409: ok('the Idempotency-Key was used for a receipt with other lines', error),
          },
        },
      },
      '/api/v1/segments': {
        get: {
          summary: 'Segments, built-in ones first, with their size',
          responses: { 200: ok('segments', listOf({ $ref: '#/components/schemas/Segment' })) },
        },
        post: {
          summary:
            'Create a segment { id, name, condition } (admin); its members are found at once (each entry a segment.entered), then kept current as events arrive and by the daily sweep',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Segment' } } } },
          responses: { 201: ok('created', { $ref: '#/components/schemas/Segment' }), 400: ok('invalid, naming the field', error), 409: ok('id taken', error) },
        },
      },
      '/api/v1/segments/refresh': {
        post: {
          summary:
            'Run the daily sweep now (admin): recompute RFM, re-evaluate every customer, answer { changes }; each change is a segment event that may start runs',
        },
      },
      '/api/v1/segments/{id}/customers': {
        get: {
          summary: 'The customer profiles in a segment now, most recently entered first',
          responses: { 200: ok('profiles', listOf({ type: 'object' })), 404: ok('no such segment', error) },
        },
      },
      '/api/v1/segments/{id}': { delete: { summary: 'Delete a store segment and its membership, no segment.exited (admin); built-in ones: 400' } },
      ...inventoryPaths(ok, error),
      ...storeAdminPaths(ok, error, listOf),
      ...analyticsPaths(ok, error),
      '/api/v1/settings': {
        get: { summary: 'Store settings', responses: { 200: ok('settings', { $ref: '#/components/schemas/Settings' }) } },
        put: { summary: 'Change the named keys' },
      },
      '/api/v1/message-templates': { get: { summary: 'Stored message templates' } },
      '/api/v1/message-templates/{name}': {
        put: {
          summary:
            "Save a template { subject, html, preheader? } (Liquid checked, naming the line); answers it with `warnings`, the mail lint's findings (docs/email.md)",
        },
      },
      '/api/v1/connectors': {
        get: { summary: 'Shop connections (secrets never returned)' },
        post: { summary: 'Add { platform, secrets, shop_domain?, api_url?, access_token? }' },
      },
      '/api/v1/connectors/{id}': { get: { summary: 'A connector' }, patch: { summary: 'Rotate secrets, fix credentials' }, delete: { summary: 'Remove' } },
      '/api/v1/connectors/{id}/health': { get: { summary: 'Last delivery, deliveries, failures and signature failures in 24 h' } },
      '/api/v1/deliveries': { get: { summary: 'Raw webhook deliveries, kept 30 days (?connector=)' } },
      '/api/v1/deliveries/{id}': { get: { summary: 'A delivery with headers and body' } },
      '/api/v1/deliveries/{id}/replay': { post: { summary: 'Map and ingest a stored delivery again' } },
      '/api/v1/customers/{id}/export': { get: { summary: 'Everything storeflow holds on a customer' } },
      '/api/v1/customers/{id}/erase': { post: { summary: "Erase a customer's personal data everywhere and end their runs" } },
      '/api/v1/privacy-exports': { get: { summary: 'Exports produced by shop data requests' } },
      '/api/v1/privacy-exports/{id}': { get: { summary: 'One export' } },
      '/api/v1/audit-log': {
        get: {
          summary:
            'Who changed which workflow, key, connector, setting or integration, and when, newest first (?action=&target=); actor is key:<id>, cli:<os user> or system; details never hold a secret',
        },
      },
      '/webhooks/shopify/{store}': { post: { summary: 'Shopify deliveries (X-Shopify-Hmac-Sha256)', security: [] } },
      '/webhooks/woocommerce/{store}': { post: { summary: 'WooCommerce deliveries (X-WC-Webhook-Signature)', security: [] } },
      '/webhooks/bigcommerce/{store}': { post: { summary: 'BigCommerce deliveries (Standard Webhooks signature)', security: [] } },
      '/webhooks/shippo/{store}': {
        post: {
          summary:
            "Shippo track_updated deliveries, authenticated by the shippo integration's webhook_token in the URL (?token=, Shippo's self-generated token); mapped to shipment.updated for the order whose label has the tracking number, once per update; over the store's STOREFLOW_INGEST_RATE_LIMIT, 429 with Retry-After",
          security: [],
        },
      },
      '/api/v1/integrations': {
        get: { summary: 'Remote service credentials of the store (shippo, buffer, meta_ads, team_chat): which secrets are set, never their values' },
      },
      '/api/v1/integrations/{kind}': {
        put: { summary: 'Set { api_url?, credentials, config? } for shippo, buffer, meta_ads or team_chat (secrets sealed with STOREFLOW_SECRET_KEY)' },
        delete: { summary: 'Remove the integration' },
      },
      '/forms/{store}/{form}': {
        post: {
          summary:
            "A shopper's form (sign-up, contact), form-encoded or JSON, accepted as a form.submitted event { form, fields }; with an `email` field it creates or updates the customer. Consent only from an explicit `accepts_marketing` (true/on/yes/1; false/off/no/0; absent leaves consent as it was). `_hp` is the honeypot (filled: the usual answer, nothing stored); `_redirect` sends the browser (303) to a URL on the store's own shop origin. Fields starting with `_` are not stored. At most 50 fields, values up to 2000 characters, 16 KiB a body. Rate limited per client IP and store (STOREFLOW_FORM_RATE_LIMIT, default 20/min). CORS (and OPTIONS preflight) answers only the store's shop origin: https://SHOP_DOMAIN of its connectors, and a WooCommerce connector's api_url origin",
          security: [],
          parameters: [
            { name: 'store', in: 'path', required: true, description: 'The store id', schema: { type: 'string' } },
            { name: 'form', in: 'path', required: true, description: "The form's name (letters, digits, _ - .; up to 64)", schema: { type: 'string' } },
          ],
          requestBody: {
            content: {
              'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } },
              'application/json': { schema: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } } },
            },
          },
          responses: {
            202: ok('accepted: { id, duplicate: false }'),
            303: { description: 'accepted; the browser is sent to _redirect' },
            400: ok('a field is invalid (the message names it)', error),
            404: ok('no such store', error),
            413: ok('body over 16 KiB', error),
            429: ok('rate limited (Retry-After)', error),
          },
        },
        options: { summary: "CORS preflight: Access-Control-Allow-Origin only for the store's own shop origin", security: [] },
      },
      '/t/c/{token}': { get: { summary: 'Click redirect (signed token)', security: [] } },
      '/t/o/{token}': { get: { summary: 'Open pixel (signed token)', security: [] } },
      '/u/{token}': { get: { summary: 'Unsubscribe page', security: [] }, post: { summary: 'One-click unsubscribe (RFC 8058)', security: [] } },
      '/healthz': { get: { summary: 'Liveness', security: [] } },
      '/readyz': { get: { summary: 'Readiness (database answers)', security: [] } },
      '/metrics': { get: { summary: 'Prometheus metrics (docs/operating.md lists them)', security: [] } },
      '/api/v1/workers': {
        get: {
          summary:
            "The installation's worker processes from their heartbeats { id, hostname, pid, version, state: running|stopped|lost, started_at, last_seen, stopped_at, heartbeat_ms, claimed_runs }, newest first (a signed-in user only: an API key is bound to one store, 403)",
          responses: { 200: ok('workers', listOf({ type: 'object' })), 403: ok('an API key, not a signed-in user', error) },
        },
      },
    },
  }
  server.get('/api/openapi.json', async () => doc)
}
