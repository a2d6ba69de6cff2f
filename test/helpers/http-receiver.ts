import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the receiver saw it: counted when its body has fully arrived. */
export interface ReceivedRequest {
  method: string
  path: string
  /** the Idempotency-Key header, or null when there was none */
  key: string | null
  body: string
  /** its answer was kept back by hold(): the caller may have died without knowing it arrived */
  held: boolean
  /** the status it was answered with: 200, the failWith() status, or 0 while held */
  status: number
}

/**
 * A real HTTP server on 127.0.0.1 (port 0) standing in for a store's webhook endpoint: it keeps
 * every request it receives and answers 200 `{"ok":true}`. It can keep its answers back, so a
 * test can kill the caller while requests are known to be in the receiver's hands.
 */
export interface HttpReceiver {
  url: string
  /** every request received, in order, repeats included */
  requests: ReceivedRequest[]
  /** From now on answer nothing: each request is recorded and waits. */
  hold(): void
  /** Answer the first `n` requests received (counting those before), hold every later one. */
  holdAfter(n: number): void
  /** Idempotency keys of the requests waiting for their answer, whose caller is still connected */
  held(): Array<string | null>
  /** requests received whose answer waits for `delayMs` now */
  answering(): number
  /** answer every held request and stop holding */
  release(): void
  /**
   * While set, answer every request with this status (e.g. 503) and an error body: the endpoint
   * is failing, the request is recorded but not taken. `null` answers 200 again.
   */
  failWith(status: number | null): void
  /** Idempotency key → how many times it was received */
  counts(): Map<string | null, number>
  close(): Promise<void>
}

export async function startHttpReceiver(options: { /** delay before each 200 answer, ms; default 0 */ delayMs?: number } = {}): Promise<HttpReceiver> {
  let answering = 0
  const requests: ReceivedRequest[] = []
  let holdFrom = Number.POSITIVE_INFINITY
  let failing: number | null = null
  const waiting: Array<{ key: string | null; res: ServerResponse }> = []
  const answer = (res: ServerResponse & { request?: ReceivedRequest }) => {
    if (res.request) res.request.status = 200
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const header = req.headers['idempotency-key']
      const key = typeof header === 'string' ? header : null
      const body = Buffer.concat(chunks).toString('utf8')
      if (failing !== null) {
        requests.push({ method: req.method ?? '', path: req.url ?? '', key, body, held: false, status: failing })
        res.writeHead(failing, { 'content-type': 'application/json' }).end('{"error":"unavailable"}')
        return
      }
      const held = requests.length + 1 > holdFrom
      const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', key, body, held, status: held ? 0 : 200 }
      requests.push(request)
      if (!held && options.delayMs) {
        answering++
        setTimeout(() => {
          answering--
          answer(res)
        }, options.delayMs)
        return
      }
      if (!held) {
        answer(res)
        return
      }
      const entry = { key, res: Object.assign(res, { request }) }
      waiting.push(entry)
      // the caller was killed while waiting: nothing left to answer
      res.on('close', () => {
        const i = waiting.indexOf(entry)
        if (i >= 0) waiting.splice(i, 1)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hold() {
      holdFrom = requests.length
    },
    holdAfter(n) {
      holdFrom = n
    },
    held: () => waiting.map((w) => w.key),
    answering: () => answering,
    release() {
      holdFrom = Number.POSITIVE_INFINITY
      for (const w of waiting.splice(0)) answer(w.res)
    },
    failWith(status) {
      failing = status
    },
    counts() {
      const counts = new Map<string | null, number>()
      for (const r of requests) counts.set(r.key, (counts.get(r.key) ?? 0) + 1)
      return counts
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
