/**
 * Load generator, run as a child process (`fork`) so it does not share the server's event
 * loop. A minimal keep-alive HTTP/1.1 client over raw sockets: it spends far less CPU per
 * request than fetch/undici would, so on a 2-core machine the server keeps one core to itself.
 *
 * Modes
 * - closed: `concurrency` connections, each sends the next request when the last is answered.
 * - open: requests are scheduled at a fixed `rate`; latency is measured from the scheduled
 *   send time (so a stalled server is not hidden by the client waiting: no coordinated omission).
 */
import { connect, type Socket } from 'node:net'
import { orderPaid } from './lib/events.ts'

export interface LoadRequest {
  mode: 'closed' | 'open'
  port: number
  path: string
  /** bearer key, or null for the bare server */
  token: string | null
  /** keys of several stores instead: request i goes with tokens[i % n] (one store each) */
  tokens?: string[]
  /** closed mode: connections; open mode: connection pool size */
  concurrency: number
  /** open mode: requests per second */
  rate?: number
  warmupMs: number
  durationMs: number
  /** makes event ids unique across runs against the same database */
  tag: string
  /** distinct customers the orders belong to */
  customers: number
  /** keep each request's 202 time (acks): what the run-visibility and backlog figures compare against */
  recordAcks?: boolean
}

export interface LoadResult {
  /** responses with the expected status in the measured window */
  accepted: number
  other: number
  statuses: Record<string, number>
  elapsedMs: number
  perSecond: number
  /** ms, measured window only */
  p50: number
  p90: number
  p99: number
  max: number
  bodyBytesAvg: number
  /** open mode: requests that could not be sent on time for lack of a free connection */
  backlogMax: number
  clientCpuMs: number
  /**
   * with recordAcks: per request (index i is event `evt-<tag>-<i>`), when its 202 arrived, as
   * performance.timeOrigin + performance.now() (comparable across processes); 0 if it got none
   */
  acks?: number[]
  /** with recordAcks: the first request index of the measured window */
  windowFrom?: number
  /** with recordAcks: the measured window's end, same clock as acks */
  windowEndAt?: number
  /** 202s over the whole load, warm-up and stragglers included */
  acceptedTotal: number
}

interface Conn {
  socket: Socket
  buf: Buffer
  busy: boolean
  /** when the request in flight was meant to go out (ms, performance.now) */
  sentAt: number
  /** its request index */
  index: number
}

function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

async function runLoad(req: LoadRequest): Promise<LoadResult> {
  const headFor = (token: string | null) =>
    `POST ${req.path} HTTP/1.1\r\nHost: 127.0.0.1:${req.port}\r\nContent-Type: application/json\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}Connection: keep-alive\r\n`
  const heads = req.tokens && req.tokens.length > 0 ? req.tokens.map(headFor) : [headFor(req.token)]
  let seq = 0
  let bodyBytes = 0
  const nextRequest = (conn: Conn): Buffer => {
    const i = seq++
    conn.index = i
    const body = JSON.stringify(
      orderPaid({ eventId: `evt-${req.tag}-${i}`, orderId: `ord-${req.tag}-${i}`, customerId: `cus-${i % req.customers}`, variant: i }),
    )
    const len = Buffer.byteLength(body)
    bodyBytes += len
    return Buffer.from(`${heads[i % heads.length]}Content-Length: ${len}\r\n\r\n${body}`)
  }

  const cpu0 = process.cpuUsage()
  const start = performance.now()
  const measureFrom = start + req.warmupMs
  const end = measureFrom + req.durationMs
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let accepted = 0
  let other = 0
  let measuredFirst = Number.NaN
  let measuredLast = 0
  let stopping = false
  const free: Conn[] = []
  let backlog: number[] = []
  let backlogMax = 0
  const acks: number[] = []
  let acceptedTotal = 0
  let windowFrom = -1
  const origin = performance.timeOrigin

  const onResponse = (conn: Conn, status: number) => {
    const now = performance.now()
    if (status === 202) {
      acceptedTotal++
      if (req.recordAcks) acks[conn.index] = origin + now
    }
    // closed loop: the answers of the window (a slow server's long requests count when they
    // end); open loop: the requests scheduled in it, however late their answer
    const inWindow = req.mode === 'closed' ? now >= measureFrom && now <= end : conn.sentAt >= measureFrom && conn.sentAt <= end
    if (inWindow) {
      if (Number.isNaN(measuredFirst)) measuredFirst = conn.sentAt
      measuredLast = now
      latencies.push(now - conn.sentAt)
      statuses[status] = (statuses[status] ?? 0) + 1
      if (status === 202) accepted++
      else other++
    }
    conn.busy = false
    if (stopping) return
    if (req.mode === 'closed') {
      if (now <= end) send(conn, now)
    } else if (backlog.length > 0) send(conn, backlog.shift()!)
    else free.push(conn)
  }

  const send = (conn: Conn, scheduledAt: number) => {
    conn.busy = true
    conn.sentAt = scheduledAt
    conn.socket.write(nextRequest(conn))
    if (windowFrom < 0 && scheduledAt >= measureFrom) windowFrom = conn.index
  }

  const open = (): Promise<Conn> =>
    new Promise((resolve, reject) => {
      const socket = connect({ port: req.port, host: '127.0.0.1', noDelay: true })
      const conn: Conn = { socket, buf: Buffer.alloc(0), busy: false, sentAt: 0, index: -1 }
      socket.on('connect', () => resolve(conn))
      socket.on('error', (err) => (stopping ? undefined : reject(err)))
      socket.on('data', (chunk: Buffer) => {
        conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk])
        for (;;) {
          const headerEnd = conn.buf.indexOf('\r\n\r\n')
          if (headerEnd < 0) return
          const headers = conn.buf.toString('latin1', 0, headerEnd)
          const status = Number(headers.slice(9, 12))
          const m = /content-length:\s*(\d+)/i.exec(headers)
          const total = headerEnd + 4 + (m ? Number(m[1]) : 0)
          if (conn.buf.length < total) return
          conn.buf = conn.buf.subarray(total)
          onResponse(conn, status)
        }
      })
    })

  const conns = await Promise.all(Array.from({ length: req.concurrency }, open))
  // the parent counts what the server did in the same window (completed runs)
  const phase = (name: 'measuring' | 'ended') => process.send?.({ phase: name })
  const phaseTimers = [setTimeout(() => phase('measuring'), measureFrom - performance.now()), setTimeout(() => phase('ended'), end - performance.now())]
  if (req.mode === 'closed') {
    for (const c of conns) send(c, performance.now())
    await new Promise((r) => setTimeout(r, end - performance.now() + 50))
    if (req.recordAcks) await settle(conns)
  } else {
    free.push(...conns)
    const interval = 1000 / req.rate!
    let due = start
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now()
        if (now > end) {
          clearInterval(timer)
          resolve()
          return
        }
        while (due <= now) {
          const conn = free.pop()
          if (conn) send(conn, due)
          else backlog.push(due)
          due += interval
        }
        backlogMax = Math.max(backlogMax, backlog.length)
      }, 1)
    })
    await settle(conns, () => backlog.length === 0)
    // what the server never answered in time counts at least as late as it is now: dropping it
    // would flatter the tail
    const now = performance.now()
    for (const at of backlog) if (at >= measureFrom) latencies.push(now - at)
    for (const c of conns) if (c.busy && c.sentAt >= measureFrom) latencies.push(now - c.sentAt)
    backlog = []
  }
  stopping = true
  for (const t of phaseTimers) clearTimeout(t)
  for (const c of conns) c.socket.destroy()
  const cpu = process.cpuUsage(cpu0)
  const sorted = Float64Array.from(latencies).sort()
  const elapsedMs = req.mode === 'closed' ? req.durationMs : Math.max(1, measuredLast - measuredFirst)
  return {
    accepted,
    other,
    statuses,
    elapsedMs,
    perSecond: (accepted * 1000) / elapsedMs,
    p50: percentileOf(sorted, 50),
    p90: percentileOf(sorted, 90),
    p99: percentileOf(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    bodyBytesAvg: seq > 0 ? bodyBytes / seq : 0,
    backlogMax,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    acceptedTotal,
    ...(req.recordAcks ? { acks: Array.from({ length: seq }, (_, i) => acks[i] ?? 0), windowFrom: Math.max(0, windowFrom), windowEndAt: origin + end } : {}),
  }
}

/** Lets the requests in flight come back (their answers count as accepted, not measured). */
async function settle(conns: Conn[], drained: () => boolean = () => true): Promise<void> {
  const deadline = performance.now() + 5000
  while ((!drained() || conns.some((c) => c.busy)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10))
}

if (process.send) {
  process.once('message', (msg: LoadRequest) => {
    runLoad(msg).then(
      (result) => process.send!({ ok: true, result }, () => process.exit(0)),
      (err: unknown) => process.send!({ ok: false, error: String(err) }, () => process.exit(1)),
    )
  })
}
