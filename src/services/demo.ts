import { parseEvent, type CanonicalEvent } from '../contracts/events.ts'
import { createKey, listKeys } from '../store/stores.repo.ts'
import { createUser, findUserByEmail } from '../store/users.repo.ts'
import { saveWorkflow } from '../store/workflows.repo.ts'
import type { ServiceContext } from './context.ts'
import { sweepStoreSegments } from './segments.ts'
import { generateDemo, type DemoSummary } from './demo-data.ts'
import type { EventService, IngestProgress } from './events.ts'
import { loadTemplates } from './template-library.ts'

export interface DemoOptions {
  customers: number
  days: number
  store: string
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
  templates: { installed: string[]; unchanged: string[]; need_actions: Array<{ name: string; actions: string[] }> }
  key: { id: string; key: string; scope: string; store: string } | null
  admin: { email: string; created: boolean } | null
  url: string
}

/**
 * Seeds the demo store: history (as historical events, so no mail goes out for year-old
 * orders), the template workflows (inactive), an ingest key, and the admin user when one is
 * asked for. Safe to run again: event ids are deterministic (so they come back as duplicates),
 * unchanged templates make no new version, and a second key is not created while the store has one.
 */
export function createDemoService(ctx: ServiceContext, events: EventService) {
  const db = ctx.handle.db
  return {
    async seed(options: DemoOptions): Promise<DemoResult> {
      const { end } = options
      const { events: raw, summary } = generateDemo({ customers: options.customers, days: options.days, end, store: options.store })
      const parsed: CanonicalEvent[] = raw.map((e) => {
        const result = parseEvent(e, { store: options.store, now: end })
        if (!result.ok) throw new Error(`demo event ${e.id} is invalid: ${JSON.stringify(result.issues)}`)
        return result.event
      })
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
      return { summary, events: ingested, templates, key, admin, url: ctx.config.publicUrl }
    },
  }
}

export type DemoService = ReturnType<typeof createDemoService>
