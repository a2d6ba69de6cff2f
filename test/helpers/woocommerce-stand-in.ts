// biome-ignore-all lint/suspicious/noExplicitAny: the stand-in reads arbitrary JSON, as a test file does
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A WooCommerce REST API stand-in (woocommerce.github.io/woocommerce-rest-api-docs): `PUT
 * /wp-json/wc/v3/products/{id}` with HTTP Basic consumer key/secret; 401
 * `woocommerce_rest_cannot_edit` for wrong keys, 404 `woocommerce_rest_product_invalid_id` for an
 * unknown product, 400 `rest_invalid_param` for a bad status or price. Failures scripted per request:
 * 429 with Retry-After, 500.
 */
export interface WooStandIn {
  url: string
  requests: Array<{ method: string; path: string; auth: string | undefined; body: any }>
  products: Map<string, Record<string, any>>
  failures: Array<'429' | '500' | null>
  close(): Promise<void>
}

const DECIMAL = /^(\d+(\.\d+)?)?$/

export async function startWooStandIn(key: string, secret: string, productIds: string[]): Promise<WooStandIn> {
  const state: Omit<WooStandIn, 'url' | 'close'> = { requests: [], products: new Map(productIds.map((id) => [id, { id }])), failures: [] }
  const expected = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
      let body: any = null
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
      } catch {
        return send(400, { code: 'rest_invalid_json', message: 'Invalid JSON body passed.', data: { status: 400 } })
      }
      state.requests.push({ method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization, body })
      const m = /^\/wp-json\/wc\/v3\/products\/([^/?]+)$/.exec(req.url ?? '')
      if (!m || req.method !== 'PUT')
        return send(404, { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } })
      if (req.headers.authorization !== expected)
        return send(401, { code: 'woocommerce_rest_cannot_edit', message: 'Sorry, you are not allowed to edit this resource.', data: { status: 401 } })
      const failure = state.failures.shift()
      if (failure === '429') return send(429, { code: 'too_many_requests', message: 'Too many requests' }, { 'retry-after': '3' })
      if (failure === '500') return send(500, { code: 'internal_server_error', message: 'There has been a critical error on this website.' })
      const id = decodeURIComponent(m[1] as string)
      const product = state.products.get(id)
      if (!product) return send(404, { code: 'woocommerce_rest_product_invalid_id', message: 'Invalid ID.', data: { status: 404 } })
      if (body.status !== undefined && !['draft', 'pending', 'private', 'publish'].includes(body.status))
        return send(400, {
          code: 'rest_invalid_param',
          message: 'Invalid parameter(s): status',
          data: { status: 400, params: { status: 'status is not one of draft, pending, private, and publish.' } },
        })
      for (const f of ['regular_price', 'sale_price'])
        if (body[f] !== undefined && (typeof body[f] !== 'string' || !DECIMAL.test(body[f])))
          return send(400, { code: 'rest_invalid_param', message: `Invalid parameter(s): ${f}`, data: { status: 400 } })
      Object.assign(product, body)
      return send(200, product)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) })
}
