import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import { getSupplier } from '../store/purchasing.repo.ts'
import { createKey, listKeys } from '../store/stores.repo.ts'
import { createUser, findUserByEmail } from '../store/users.repo.ts'
import { saveWorkflow } from '../store/workflows.repo.ts'
import type { ServiceContext } from './context.ts'
import { sweepStoreSegments } from './segments.ts'
import { DEFAULT_SEED, generateDemo, liveTraffic, type DemoSummary } from './demo-data.ts'
import type { EventService, IngestProgress } from './events.ts'
import { createSupplierService } from './purchasing.ts'
import { loadTemplates } from './template-library.ts'

export interface DemoOptions {
  customers: number
  days: number
  store: string
  /** the generator's seed; default DEFAULT_SEED */
  seed?: number | undefined
  /** the end of the history; orders are placed before it */
  end: Date
  /** the admin user to create when there is none with this email */
  admin?: { email: string; password: string } | undefined
  /** told how many events there are, answers what counts them as they go in */
  progress?: ((events: number) => IngestProgress) | undefined
}

export interface DemoResult {
  summary: DemoSummary
  events: { accepted: number; duplicates: number }
  /** the catalogue's suppliers: created, or there already (kept as they are) */
  suppliers: { created: string[]; existing: string[] }
  templates: { installed: string[]; unchanged: string[]; need_actions: Array<{ name: string; actions: string[] }> }
  key: { id: string; key: string; scope: string; store: string } | null
  admin: { email: string; created: boolean } | null
  url: string
}

export interface LiveOptions {
  store: string
  /** the seed and number of customers the store was seeded with, so the traffic comes from its customers */
  seed?: number | undefined
  customers: number
  /** events per second */
  rate: number
  /** stop after this many events; default: until the signal */
  count?: number | undefined
  signal?: AbortSignal | undefined
  /** waits `ms` between events; default real time (paced: the time an event takes to go in counts), cut short by the signal */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined
  /** makes the session's ids its own; default from the clock */
  session?: string | undefined
  /** told after each event is in */
  onEvent?: ((stats: LiveStats, event: CanonicalEvent) => void) | undefined
}

export interface LiveStats {
  session: string
  /** events sent */
  sent: number
  /** of those, ones the log had already (a session id used before) */
  duplicates: number
  by_type: Record<string, number>
}

/** waits ms of real time, or less when the signal aborts */
function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Real-time pacing: each wait ends `ms` after the previous one was due, so the time an event
 * takes to go in counts towards its interval (the rate holds); a stretch that fell behind is not
 * made up in a burst.
 */
function realPacer(): (ms: number, signal?: AbortSignal) => Promise<void> {
  let due = performance.now()
  return (ms, signal) => {
    due = Math.max(due + ms, performance.now())
    return realSleep(due - performance.now(), signal)
  }
}

let sessions = 0

/**
 * Seeds the demo store: history (as historical events, so no mail goes out for year-old
 * orders), the catalogue's suppliers, the template workflows (inactive), an ingest key, and the
 * admin user when one is asked for. Safe to run again: event ids are deterministic (so they come
 * back as duplicates), suppliers already there are kept, unchanged templates make no new
 * version, and a second key is not created while the store has one. `live` then sends new
 * traffic as it happens.
 */
export function createDemoService(ctx: ServiceContext, events: EventService) {
  const db = ctx.handle.db
  const supplierService = createSupplierService(ctx)
  const parse = (e: { id: string }, store: string, now: Date): CanonicalEvent => {
    const result = parseEvent(e, { store, now })
    if (!result.ok) throw new Error(`demo event ${e.id} is invalid: ${JSON.stringify(result.issues)}`)
    return result.event
  }
  return {
    async seed(options: DemoOptions): Promise<DemoResult> {
      const { end } = options
      const {
        events: raw,
        suppliers,
        summary,
      } = generateDemo({ customers: options.customers, days: options.days, end, store: options.store, seed: options.seed ?? DEFAULT_SEED })
      // suppliers first, as the shop's owner would set them up: POST /api/v1/suppliers's path
      const supplied: DemoResult['suppliers'] = { created: [], existing: [] }
      for (const s of suppliers) {
        if (await getSupplier(db, options.store, s.id)) supplied.existing.push(s.id)
        else {
          await supplierService.upsert(options.store, s)
          supplied.created.push(s.id)
        }
      }
      const parsed = raw.map((e) => parse(e, options.store, end))
      const ingested = await events.ingestAll(parsed, { historical: true, source: 'demo' }, options.progress?.(parsed.length))
      // RFM over the whole history, and the segments it puts customers in, recorded as history
      await sweepStoreSegments(ctx, options.store, true)

      const templates: DemoResult['templates'] = { installed: [], unchanged: [], need_actions: [] }
      for (const t of loadTemplates(ctx.actions)) {
        if (!t.parsed) {
          templates.need_actions.push({ name: t.name, actions: t.missingActions })
          continue
        }
        // `active` is left out: a new workflow starts inactive, one the user activated stays so
        const { created } = await saveWorkflow(db, options.store, t.parsed, t.source, ctx.clock.now())
        ;(created ? templates.installed : templates.unchanged).push(t.name)
      }

      const liveKeys = (await listKeys(db, options.store)).filter((k) => k.scope === 'ingest' && k.revoked_at === null)
      const key = liveKeys.length === 0 ? await createKey(db, options.store, 'ingest', ctx.clock.now()) : null

      let admin: DemoResult['admin'] = null
      if (options.admin) {
        const { email, password } = options.admin
        const existing = await findUserByEmail(db, email)
        if (!existing) await createUser(db, { email, password }, ctx.clock.now())
        admin = { email: email.trim().toLowerCase(), created: !existing }
      }
      return { summary, events: ingested, suppliers: supplied, templates, key, admin, url: ctx.config.publicUrl }
    },

    /**
     * Sends new traffic through the ingest path, as live (not historical) events stamped with the
     * clock's now, `rate` a second, until `count` events or the signal; routed as they go in, so
     * active workflows start runs on them.
     */
    async live(options: LiveOptions): Promise<LiveStats> {
      if (!(options.rate > 0)) throw new Error('rate must be positive')
      const session = options.session ?? `${ctx.clock.now().getTime().toString(36)}${sessions++ ? `-${sessions}` : ''}`
      const traffic = liveTraffic({ store: options.store, seed: options.seed ?? DEFAULT_SEED, customers: options.customers, session })
      const sleep = options.sleep ?? realPacer()
      const stats: LiveStats = { session, sent: 0, duplicates: 0, by_type: {} }
      const interval = 1000 / options.rate
      while (!options.signal?.aborted && (options.count === undefined || stats.sent < options.count)) {
        const now = ctx.clock.now()
        const event = parse(traffic.next(now), options.store, now)
        const { duplicates } = await events.ingestAll([event], { historical: false, source: 'demo-live' })
        stats.sent++
        stats.duplicates += duplicates
        stats.by_type[event.type] = (stats.by_type[event.type] ?? 0) + 1
        options.onEvent?.(stats, event)
        if (options.count !== undefined && stats.sent >= options.count) break
        await sleep(interval, options.signal)
      }
      return stats
    },
  }
}

export type DemoService = ReturnType<typeof createDemoService>
