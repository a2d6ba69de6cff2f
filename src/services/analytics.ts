import { z } from 'zod'
import { DEFAULT_SETTINGS } from '../contracts/settings.ts'
import type { StepSpec } from '../contracts/workflow.ts'
import { addDays } from '../core/forecast/index.ts'
import { compareHoldout, compareSplit, type CustomerOutcome, type HoldoutReport, type SplitReport } from '../core/insight/index.ts'
import { isValidTimeZone, wallClockToInstant } from '../core/time-zones.ts'
import { compileProgram } from '../core/workflow/compile.ts'
import { holdoutShare } from '../engine/holdout.ts'
import { isDuration, parseDuration } from '../lib/durations.ts'
import { isCalendarDay } from '../lib/calendar-day.ts'
import { UserError } from '../lib/errors.ts'
import {
  type Cohort,
  type Counters,
  currentDefinition,
  type DayRange,
  type DailyCounters,
  statsDaily,
  statsPerStep,
  statsPerWorkflow,
  statsTotals,
  workflowNames,
} from '../store/analytics.repo.ts'
import { dayIn } from '../store/demand.repo.ts'
import { getStoreProfile } from '../store/stores.repo.ts'
import { cohort } from '../store/workflow-entries.repo.ts'
import type { ServiceContext } from './context.ts'
import type { DailyFigures, MessageFigures, RunFigures } from '../contracts/analytics.ts'

export type { DailyFigures, MessageFigures, RunFigures }

/** Days a report covers by default: the last 30, today included, in the store's time zone */
export const DEFAULT_RANGE_DAYS = 30
/** Longest range a report may cover, days */
export const MAX_RANGE_DAYS = 366

const DAY = /^\d{4}-\d{2}-\d{2}$/
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

const dateParam = z
  .string({ error: 'give one date, YYYY-MM-DD or an ISO-8601 time with a zone' })
  .refine((s) => isCalendarDay(s) || (INSTANT.test(s) && isCalendarDay(s.slice(0, 10)) && !Number.isNaN(Date.parse(s))), {
    message: 'give a date as YYYY-MM-DD (from 1970) or an ISO-8601 time with a zone',
  })

/** The query of both reports: `from` and `to`, inclusive days in the store's time zone. */
export const analyticsQuerySchema = z.object({
  from: dateParam.optional().describe('First day, YYYY-MM-DD in the store time zone (an ISO time counts as its day there); default 29 days before `to`'),
  to: dateParam.optional().describe('Last day, inclusive; default today in the store time zone'),
})

export type AnalyticsQuery = { from?: unknown; to?: unknown } & Record<string, unknown>

function invalid(field: string, message: string): UserError {
  return new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field } })
}

/** A YYYY-MM-DD stays as given; an instant becomes the day it falls on in the store's zone. */
function localDay(value: string, zone: string): string {
  return DAY.test(value) ? value : dayIn(new Date(value), zone)
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
}

/** The instant a day starts in the zone, ISO UTC. */
function dayStart(day: string, zone: string): string {
  return wallClockToInstant(
    { year: Number(day.slice(0, 4)), month: Number(day.slice(5, 7)), day: Number(day.slice(8, 10)), hour: 0, minute: 0 },
    zone,
  ).toISOString()
}

interface ResolvedRange extends DayRange {
  /** the first day's start and the start of the day after the last, ISO UTC */
  fromAt: string
  toAt: string
}

/** What a split's comparison says beside the per-variant figures in `variants` */
export type SplitSummary = Omit<SplitReport, 'variants'> & {
  step_id: string
  /** customers whose runs took more than one variant (before assignment was stable per customer): in no variant's figures */
  customers_in_several_variants: number
}

export interface WorkflowAnalytics {
  workflow: { id: string; name: string }
  from: string
  to: string
  currency: string
  timezone: string
  attribution_window: string
  runs: RunFigures
  messages: MessageFigures
  orders_attributed: number
  revenue_attributed: number
  /** treated against control, customers who entered in the range; null when the workflow has no holdout */
  holdout: HoldoutReport | null
  /** per variant of the workflow's (first) split; null without a split */
  variants: SplitReport['variants'] | null
  /** the split's comparison: leader, winner, intervals; null without a split */
  split: SplitSummary | null
  steps: Array<MessageFigures & { id: string; orders_attributed: number; revenue_attributed: number }>
  daily: DailyFigures[]
}

export interface OverviewAnalytics {
  from: string
  to: string
  currency: string
  timezone: string
  runs: RunFigures
  messages: MessageFigures
  orders_attributed: number
  revenue_attributed: number
  workflows: Array<{ id: string; name: string; runs: number; sent: number; orders_attributed: number; revenue_attributed: number }>
  daily: DailyFigures[]
}

const runFigures = (c: Counters): RunFigures => ({ started: c.runs_started, completed: c.runs_completed, exited: c.runs_exited, failed: c.runs_failed })
const messageFigures = (c: Counters): MessageFigures => ({
  sent: c.sent,
  delivered: c.delivered,
  opened: c.opened,
  clicked: c.clicked,
  unsubscribed: c.unsubscribed,
  bounced: c.bounced,
})
const money = (x: number) => Math.round(x * 1e6) / 1e6

/** One entry per day of the range, zeros where nothing was counted. */
function dailySeries(range: DayRange, rows: DailyCounters[]): DailyFigures[] {
  const byDay = new Map(rows.map((r) => [r.day, r]))
  const out: DailyFigures[] = []
  for (let day = range.from; day <= range.to; day = addDays(day, 1)) {
    const r = byDay.get(day)
    out.push({ date: day, runs: r?.runs_started ?? 0, sent: r?.sent ?? 0, revenue: money(r?.revenue ?? 0) })
  }
  return out
}

/**
 * The first split of the workflow's steps outside any loop, as the engine compiles them (ids given
 * or from position): its step key is its id. A split inside a for_each is not reported.
 */
function firstSplit(definition: unknown): { id: string; variants: string[] } | null {
  const steps = (definition as { steps?: StepSpec[] } | null)?.steps
  if (!Array.isArray(steps)) return null
  try {
    const program = compileProgram(steps)
    const loops = program.flatMap((instr, at) => (instr.op === 'for_each' ? [[at, instr.end] as const] : []))
    for (const [at, instr] of program.entries()) {
      if (instr.op === 'split' && !loops.some(([start, end]) => at > start && at < end)) return { id: instr.id, variants: instr.variants.map((v) => v.id) }
    }
  } catch {
    return null
  }
  return null
}

/** A group in the compact form compareHoldout and compareSplit take: its size, and the outcomes of its buyers. */
function group(entrants: Cohort, member: (g: { holdout: boolean; variant: string | null }) => boolean): { customers: number; outcomes: CustomerOutcome[] } {
  const customers = entrants.groups.filter(member).reduce((n, g) => n + g.customers, 0)
  const outcomes = entrants.buyers.filter(member).map((b) => ({ converted: b.orders > 0, revenue: Math.max(0, b.revenue) }))
  return { customers, outcomes }
}

/**
 * Insight (docs/insight.md): per workflow and per store, the counters over a range of days, the
 * holdout comparison and the split's variants, from the runs and orders of the customers who
 * entered in the range, each measured over the store's attribution window after their first entry.
 */
export function createAnalyticsService(ctx: ServiceContext) {
  const { db, dialect } = ctx.handle

  async function storeOf(storeId: string) {
    const profile = await getStoreProfile(db, storeId)
    if (!profile) throw new UserError(`store "${storeId}" not found`, { code: 'not_found' })
    const zone = profile.timezone && isValidTimeZone(profile.timezone) ? profile.timezone : 'UTC'
    let window = DEFAULT_SETTINGS.attribution_window
    try {
      const stored = (JSON.parse(profile.settings) as { attribution_window?: unknown }).attribution_window
      if (typeof stored === 'string' && isDuration(stored)) window = stored
    } catch {
      // unreadable settings: the default window
    }
    return { currency: profile.currency, zone, window }
  }

  function resolveRange(raw: AnalyticsQuery, zone: string): ResolvedRange {
    for (const field of ['from', 'to'] as const) if (Array.isArray(raw[field])) throw invalid(field, 'give one value')
    const parsed = analyticsQuerySchema.safeParse({ from: raw.from === '' ? undefined : raw.from, to: raw.to === '' ? undefined : raw.to })
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw invalid(String(issue.path[0] ?? 'query'), issue.message)
    }
    const today = dayIn(ctx.clock.now(), zone)
    const to = parsed.data.to !== undefined ? localDay(parsed.data.to, zone) : today
    const from = parsed.data.from !== undefined ? localDay(parsed.data.from, zone) : addDays(to, -(DEFAULT_RANGE_DAYS - 1))
    if (to < from) throw invalid('to', `must be on or after from (${from}); got ${to}`)
    const days = daysBetween(from, to) + 1
    if (days > MAX_RANGE_DAYS) throw invalid('from', `the range ${from} to ${to} is ${days} days; a report covers at most ${MAX_RANGE_DAYS}`)
    return { from, to, fromAt: dayStart(from, zone), toAt: dayStart(addDays(to, 1), zone) }
  }

  return {
    /** `GET /api/v1/analytics/workflows/:id`: 404 for a workflow the store does not have. */
    async workflow(storeId: string, workflowId: string, raw: AnalyticsQuery): Promise<WorkflowAnalytics> {
      const store = await storeOf(storeId)
      const range = resolveRange(raw, store.zone)
      const wf = await currentDefinition(db, storeId, workflowId)
      if (!wf) throw new UserError(`workflow "${workflowId}" not found`, { code: 'not_found', details: { field: 'id' } })
      const [totals, daily, steps] = await Promise.all([
        statsTotals(db, storeId, workflowId, range),
        statsDaily(db, storeId, workflowId, range),
        statsPerStep(db, storeId, workflowId, range),
      ])

      const share = holdoutShare((wf.definition as { holdout?: string | number } | null)?.holdout)
      const split = firstSplit(wf.definition)
      let holdout: HoldoutReport | null = null
      let variants: SplitReport['variants'] | null = null
      let splitSummary: SplitSummary | null = null
      if (share > 0 || split !== null) {
        const entrants = await cohort(db, dialect, storeId, {
          workflowId,
          fromAt: range.fromAt,
          toAt: range.toAt,
          windowMs: parseDuration(store.window),
          splitStepId: split?.id,
          splitVariants: split?.variants,
        })
        // the current version decides: a workflow whose holdout was removed answers null
        if (share > 0) {
          holdout = compareHoldout({ treated: group(entrants, (g) => !g.holdout), control: group(entrants, (g) => g.holdout) })
        }
        if (split !== null) {
          const taken = [...new Set(entrants.groups.map((g) => g.variant).filter((v): v is string => v !== null))]
          const ids = [...split.variants, ...taken.filter((v) => !split.variants.includes(v)).sort()]
          const report = compareSplit(ids.map((id) => ({ id, outcomes: group(entrants, (g) => !g.holdout && g.variant === id) })))
          const { variants: figures, ...rest } = report
          variants = figures
          const several = entrants.groups.filter((g) => g.several_variants).reduce((n, g) => n + g.customers, 0)
          splitSummary = { step_id: split.id, customers_in_several_variants: several, ...rest }
        }
      }

      return {
        workflow: { id: workflowId, name: wf.name },
        from: range.from,
        to: range.to,
        currency: store.currency,
        timezone: store.zone,
        attribution_window: store.window,
        runs: runFigures(totals),
        messages: messageFigures(totals),
        orders_attributed: totals.orders,
        revenue_attributed: money(totals.revenue),
        holdout,
        variants,
        split: splitSummary,
        steps: steps.map((s) => ({ id: s.step_id, ...messageFigures(s), orders_attributed: s.orders, revenue_attributed: money(s.revenue) })),
        daily: dailySeries(range, daily),
      }
    },

    /** `GET /api/v1/analytics/overview`: the store's counters over all its workflows, and each workflow's share. */
    async overview(storeId: string, raw: AnalyticsQuery): Promise<OverviewAnalytics> {
      const store = await storeOf(storeId)
      const range = resolveRange(raw, store.zone)
      const [totals, daily, perWorkflow, names] = await Promise.all([
        statsTotals(db, storeId, null, range),
        statsDaily(db, storeId, null, range),
        statsPerWorkflow(db, storeId, range),
        workflowNames(db, storeId),
      ])
      const counted = new Map(perWorkflow.map((w) => [w.workflow_id, w]))
      const ids = [...new Set([...names.keys(), ...counted.keys()])].sort()
      return {
        from: range.from,
        to: range.to,
        currency: store.currency,
        timezone: store.zone,
        runs: runFigures(totals),
        messages: messageFigures(totals),
        orders_attributed: totals.orders,
        revenue_attributed: money(totals.revenue),
        workflows: ids.map((id) => {
          const c = counted.get(id)
          return {
            id,
            // a deleted workflow keeps its counters: its id stands in for the name
            name: names.get(id) ?? id,
            runs: c?.runs_started ?? 0,
            sent: c?.sent ?? 0,
            orders_attributed: c?.orders ?? 0,
            revenue_attributed: money(c?.revenue ?? 0),
          }
        }),
        daily: dailySeries(range, daily),
      }
    },
  }
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>
