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
  /** answer every held request and stop holding */
  release(): void
  /** Idempotency key → how many times it was received */
  counts(): Map<string | null, number>
  close(): Promise<void>
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = []
  let holdFrom = Number.POSITIVE_INFINITY
  const waiting: Array<{ key: string | null; res: ServerResponse }> = []
  const answer = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const header = req.headers['idempotency-key']
      const key = typeof header === 'string' ? header : null
      const held = requests.length + 1 > holdFrom
      requests.push({ method: req.method ?? '', path: req.url ?? '', key, body: Buffer.concat(chunks).toString('utf8'), held })
      if (!held) {
        answer(res)
        return
      }
      const entry = { key, res }
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
    release() {
      holdFrom = Number.POSITIVE_INFINITY
      for (const w of waiting.splice(0)) answer(w.res)
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
