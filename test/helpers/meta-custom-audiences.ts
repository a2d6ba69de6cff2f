import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A Meta Graph API stand-in following the Custom Audience users reference: POST and DELETE
 * /{audience_id}/users, form-encoded `payload` ({ schema: ["EMAIL"], data: [[sha256]] }, at most
 * 10,000 rows) and `access_token`; a bad token is HTTP 400 `{ error: { type: OAuthException,
 * code: 190 } }`; `answers` forces the next answers (429 with Retry-After, code 17, 503), and
 * `holdNext` keeps the next request waiting for its answer. It keeps
 * each audience as Meta would, from the requests it accepted (`audience(id)`): what a test counts.
 */
export async function startMeta(tokens: string[]) {
  const requests: Array<{ method: string; path: string; token: string | null; schema: unknown; rows: string[][] }> = []
  /** the next answers, in turn; null: answer that request as Meta would */
  const answers: Array<{ status: number; headers?: Record<string, string>; body: unknown } | null> = []
  const audiences = new Map<string, Set<string>>()
  /** requests to hold before answering, in turn: each waits for its gate to open */
  const gates: Array<{ reached: () => void; open: Promise<void> }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const gate = gates.shift()
      if (gate) {
        gate.reached()
        await gate.open
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
      const payload = JSON.parse(form.get('payload') ?? '{}') as { schema?: unknown; data?: string[][] }
      requests.push({ method: req.method ?? '', path: req.url ?? '', token: form.get('access_token'), schema: payload.schema, rows: payload.data ?? [] })
      if (!tokens.includes(form.get('access_token') ?? ''))
        return send(400, { error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, fbtrace_id: 'A1' } })
      const forced = answers.shift()
      if (forced) return send(forced.status, forced.body, forced.headers)
      const m = /^\/(\d+)\/users$/.exec(req.url ?? '')
      if (!m || (req.method !== 'POST' && req.method !== 'DELETE')) return send(404, { error: { message: 'Unknown path', code: 803 } })
      const rows = payload.data ?? []
      if (JSON.stringify(payload.schema) !== '["EMAIL"]' || rows.length === 0 || rows.length > 10_000 || rows.some((r) => !/^[0-9a-f]{64}$/.test(r[0] ?? '')))
        return send(400, { error: { message: 'Invalid parameter', code: 100 } })
      const held = audiences.get(m[1]!) ?? new Set<string>()
      audiences.set(m[1]!, held)
      for (const [hash] of rows) req.method === 'POST' ? held.add(hash!) : held.delete(hash!)
      send(200, { audience_id: m[1], session_id: '1', num_received: rows.length, num_invalid_entries: 0, invalid_entry_samples: {} })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  /** the hashes audience `id` holds after every request Meta accepted */
  const audience = (id: string) => new Set(audiences.get(id) ?? [])
  /**
   * Holds the next request unanswered: `reached` settles when it has arrived, `release()` lets
   * Meta answer it (a sync caught mid-request)
   */
  const holdNext = () => {
    let release = () => {}
    let reached = () => {}
    const open = new Promise<void>((resolve) => {
      release = resolve
    })
    const arrived = new Promise<void>((resolve) => {
      reached = resolve
    })
    gates.push({ reached, open })
    return { reached: arrived, release }
  }
  return { url: `http://127.0.0.1:${port}`, requests, answers, audience, holdNext, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

export type MetaStandIn = Awaited<ReturnType<typeof startMeta>>
