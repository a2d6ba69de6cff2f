/**
 * Watches a SQLite database from outside, as a reader of the API would: its own read-only
 * connection polls the runs table every BENCH_WATCH_INTERVAL_MS for rows it has not seen (by
 * rowid, so a poll reads only the new rows) and notes when each trigger event's first run became
 * visible. The time noted is the start of the poll that first saw it, so it is late by at most
 * one interval plus one poll; it never reads early.
 *
 * IPC: {drain: {tag, indices, timeoutMs}} answers, once every event `evt-<tag>-<i>` of indices
 * has a run or the time is up, {drainedAt, missing, seen: first-seen time per index (0: never),
 * stepP99: the 99th percentile of the time between polls since the last answer, pollStarts: when
 * each of those polls started}.
 * 'stop' answers {polls, pollMsAvg, pollMsMax} and exits.
 */
import Database from 'better-sqlite3'

const file = process.env.BENCH_WATCH_FILE
if (!file || !process.send) throw new Error('run-watcher runs as a forked child with BENCH_WATCH_FILE')
const intervalMs = Number(process.env.BENCH_WATCH_INTERVAL_MS ?? 2)
const db = new Database(file, { readonly: true, fileMustExist: true })
const newRuns = db.prepare('select rowid, trigger_event_id from runs where rowid > ? order by rowid').raw()
const origin = performance.timeOrigin
const firstSeen = new Map<string, number>()
let lastRowid = 0
let polls = 0
let pollMsTotal = 0
let pollMsMax = 0
let lastPollAt = 0
/** time between poll starts since the last answer: the resolution of the times noted */
let steps: number[] = []
/** when each poll since the last answer started (same clock as the times noted) */
let pollStarts: number[] = []

interface DrainRequest {
  tag: string
  indices: number[]
  timeoutMs: number
}
/** the ids of the awaited events that have no visible run yet */
let waiting: { req: DrainRequest; missing: Set<string>; deadline: number } | null = null

function poll(): void {
  const t0 = performance.now()
  const at = origin + t0
  if (lastPollAt > 0) steps.push(t0 - lastPollAt)
  lastPollAt = t0
  pollStarts.push(at)
  for (const row of newRuns.iterate(lastRowid) as Iterable<[number, string]>) {
    lastRowid = row[0]
    if (!firstSeen.has(row[1])) firstSeen.set(row[1], at)
    waiting?.missing.delete(row[1])
  }
  const took = performance.now() - t0
  polls++
  pollMsTotal += took
  pollMsMax = Math.max(pollMsMax, took)
  if (waiting) check()
  setTimeout(poll, intervalMs)
}

function check(): void {
  const w = waiting!
  if (w.missing.size > 0 && performance.now() < w.deadline) return
  waiting = null
  const seen = w.req.indices.map((i) => firstSeen.get(`evt-${w.req.tag}-${i}`) ?? 0)
  const sorted = Float64Array.from(steps).sort()
  const stepP99 = sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! : Number.NaN
  process.send!({ drainedAt: seen.reduce((a, b) => Math.max(a, b), 0), missing: w.missing.size, seen, stepP99, pollStarts })
  steps = []
  pollStarts = []
}

process.on('message', (msg: { drain?: DrainRequest } | 'stop') => {
  if (msg === 'stop') {
    db.close()
    process.send!({ polls, pollMsAvg: polls ? pollMsTotal / polls : 0, pollMsMax }, () => process.exit(0))
    return
  }
  if (msg.drain) {
    const ids = msg.drain.indices.map((i) => `evt-${msg.drain!.tag}-${i}`)
    waiting = { req: msg.drain, missing: new Set(ids.filter((id) => !firstSeen.has(id))), deadline: performance.now() + msg.drain.timeoutMs }
    check()
  }
})
poll()
process.send('ready')
