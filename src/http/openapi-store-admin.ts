/** The store-admin endpoints (routes/store-admin.ts) in the OpenAPI document (openapi.ts spreads them in). */

export function storeAdminPaths(ok: (description: string, schema?: object) => object, error: object, listOf: (item: object) => object) {
  const q = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string' } })
  const page = [q('limit', '1 to 500, default 50'), q('cursor', 'next_cursor of the previous page')]
  const invalid = ok('invalid, naming the field in details.field', error)
  return {
    '/api/v1/customers': {
      get: {
        summary: "The store's customers, newest first (?q= finds a part of the email, first or last name, or the shop's id, any case)",
        parameters: [q('q', 'text to find, up to 200 characters'), ...page],
        responses: { 200: ok('customers as GET /api/v1/customers/{id} shows one', listOf({ type: 'object' })), 400: invalid },
      },
    },
    '/api/v1/orders': {
      get: {
        summary: "The store's orders, newest first (?customer= the shop's customer id, cus_… key or email)",
        parameters: [q('customer', 'a customer reference'), ...page],
        responses: {
          200: ok(
            'orders: { id, number, currency, total_price, line_items, financial_status, fulfillment_status, created_at, customer_key, … }',
            listOf({ type: 'object' }),
          ),
        },
      },
    },
    '/api/v1/carts': {
      get: {
        summary: "The store's carts, most recently changed first (?converted=true|false)",
        parameters: [q('converted', 'true: carts that became an order; false: open ones'), ...page],
        responses: { 200: ok('carts: { id, currency, total_price, line_items, converted, email, updated_at, … }', listOf({ type: 'object' })), 400: invalid },
      },
    },
    '/api/v1/keys': {
      get: { summary: "The store's API keys (admin): { id, store, scope, prefix, created_at, revoked_at }; never the key itself" },
      post: {
        summary:
          'Create an API key of this store { scope: ingest|read|admin, default read } (admin); the answer { id, key, scope, store } is the only time the key is shown',
        responses: { 201: ok('created: { id, key, scope, store }'), 400: invalid },
      },
    },
    '/api/v1/keys/{id}': { delete: { summary: "Revoke one of the store's keys (admin); 404 for a key of another store or one already revoked" } },
    '/api/v1/users/{id}': {
      delete: {
        summary: 'Delete a dashboard user and end their sessions (a signed-in user only; not the user signed in: 409)',
        responses: {
          204: { description: 'deleted' },
          403: ok('an API key, not a signed-in user', error),
          404: ok('no such user', error),
          409: ok('the user signed in', error),
        },
      },
    },
    '/api/v1/users': {
      get: { summary: "The installation's dashboard users { id, email, role, created_at } (a signed-in user only: an API key is bound to one store, 403)" },
      post: {
        summary: 'Add a dashboard user { email, password } (a signed-in user only); users belong to the installation, not to a store',
        responses: {
          201: ok('created: { id, email, role, created_at }'),
          400: invalid,
          403: ok('an API key, not a signed-in user', error),
          409: ok('the email has a user', error),
        },
      },
    },
    '/api/v1/settings/smtp/test': {
      post: {
        summary: "Send a test mail { to } through SMTP_URL from the store's sender (mail_from, else STOREFLOW_MAIL_FROM) (admin)",
        responses: {
          200: ok('sent: { sent, to, from, response } (the SMTP server’s reply)'),
          400: invalid,
          409: ok('no SMTP configured', error),
          503: ok('the SMTP server did not take the mail (its words in the message)', error),
        },
      },
    },
  }
}
