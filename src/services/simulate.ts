import { createActionRegistry } from '../actions/index.ts'
import { loadConfig, type Config } from '../config.ts'
import { parseEvent } from '../contracts/events.ts'
import type { MessageTemplate } from '../plugin-api/services.ts'
import { parseWorkflow } from '../core/workflow/parse.ts'
import { isEndedStatus } from '../engine/run-status.ts'
import type { SkipDerivations } from '../engine/route-event.ts'
import { ManualClock } from '../lib/clock.ts'
import { UserError } from '../lib/errors.ts'
import type { Logger } from '../lib/logger.ts'
import type { ActionDefinition } from '../plugin-api/define-action.ts'
import { runsOfWorkflow, stepsOfRun } from '../store/runs.repo.ts'
import { getEventById } from '../store/events.repo.ts'
import { getStoreProfile, setStoreProfile, type StoreProfile } from '../store/stores.repo.ts'
import { listMessageTemplates, saveMessageTemplate } from '../store/templates.repo.ts'
import { getWorkflow, saveWorkflow } from '../store/workflows.repo.ts'
import type { ServiceContext } from './context.ts'

/**
 * Actions that declare `simulate: 'skip'` are replaced in a simulation by a stub that records
 * their input: simulate must never reach the outside world, whatever a plugin does.
 */
export function dryRunStubs(actions: ReadonlyMap<string, ActionDefinition>): ActionDefinition[] {
  return [...actions.values()]
    .filter((a) => a.simulate === 'skip')
    .map(
      (a) =>
        ({
          ...a,
          retry: { ...a.retry, maxAttempts: 1 },
          run: async (ctx: { input: unknown }) => ({ simulated: true, would_run: a.type, input: ctx.input }),
        }) as unknown as ActionDefinition,
    )
}

/** how many times the virtual clock may jump ahead before simulate gives up (a loop that never ends) */
const MAX_JUMPS = 1000

export interface SimulatedStep {
  id: string
  type: string
  status: string
  at: string
  note: string
  /** what the step recorded (the action's output, the branch taken, the guardrail that skipped it), or null */
  output: unknown
}

export interface SimulatedMessage {
  to: string
  subject: string
  html: string
}

export interface Simulation {
  steps: SimulatedStep[]
  messages: SimulatedMessage[]
  started: boolean
  runStatus: string | null
  reason: string | null
}

/** The workflow to simulate: its source, the name its errors go by, and the store it was read from (none for a file). */
export interface SimulatedWorkflow {
  source: string
  fileName: string
  store: StoreProfile | null
  /** the store's own message templates, which the workflow's send_email steps may name (none for a file) */
  templates?: MessageTemplate[]
}

/** What POST /api/v1/workflows/:id/test asks: one event, given or named by its id, through a stored workflow. */
export interface WorkflowTestRequest {
  /** an event in the API's envelope shape, not yet checked */
  event?: unknown
  /** the id of one of the store's stored events */
  eventId?: string
  /** the workflow's version; default its current one */
  version?: number
  /** virtual start time (ISO-8601); default the event's occurred_at */
  at?: string
}

const invalid = (field: string, message: string) => new UserError(`${field}: ${message}`, { code: 'validation_failed', details: { field } })

/** Reading a stored workflow for simulate, from the real database opened read only. */
export function createSimulationService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    async storedWorkflow(storeId: string, id: string): Promise<SimulatedWorkflow> {
      const wf = await getWorkflow(db, storeId, id).catch((err: unknown) => {
        // a database never set up (wrong STOREFLOW_DATA_DIR or DATABASE_URL) has no tables yet
        if (/no such table|does not exist/.test((err as Error).message)) {
          throw new UserError(
            `workflow "${id}" not found: the database at ${ctx.handle.location} has no storeflow tables (wrong STOREFLOW_DATA_DIR or DATABASE_URL?)`,
            { code: 'not_found' },
          )
        }
        throw err
      })
      const store = await getStoreProfile(db, storeId)
      const templates = await listMessageTemplates(db, storeId)
      return { source: wf.source, fileName: id, store: store ?? null, templates }
    },

    /**
     * Simulates one event through a stored workflow of the store (its current version or the one
     * named) exactly as `storeflow simulate` does: nothing of the store is written, nothing sent.
     * The event is the store's own: one naming another store is refused, another store's event id
     * is not found.
     */
    async test(storeId: string, workflowId: string, request: WorkflowTestRequest): Promise<Simulation> {
      const openApp = ctx.openSandbox
      if (!openApp) throw new Error('simulate: this process was built without a sandbox opener (ServiceContext.openSandbox)')
      const wf = await getWorkflow(db, storeId, workflowId, request.version)
      let event: unknown
      let eventName: string
      if (request.eventId !== undefined) {
        const stored = await getEventById(db, storeId, request.eventId)
        if (!stored) throw new UserError(`event "${request.eventId}" not found`, { code: 'not_found', details: { field: 'event_id' } })
        event = { id: stored.id, type: stored.type, occurred_at: stored.occurred_at, data: stored.data }
        eventName = 'event_id'
      } else {
        const parsed = parseEvent(request.event, { store: storeId, now: ctx.clock.now() })
        if (!parsed.ok) {
          const first = parsed.issues[0]!
          throw new UserError(`event.${first.path}: ${first.message}`, {
            code: 'validation_failed',
            details: { field: `event.${first.path}`, issues: parsed.issues.map((i) => ({ ...i, path: `event.${i.path}` })) },
          })
        }
        if (parsed.event.store !== storeId) throw invalid('event.store', `this API key belongs to store "${storeId}"`)
        event = request.event
        eventName = 'event'
      }
      if (request.at !== undefined && Number.isNaN(Date.parse(request.at)))
        throw invalid('at', `must be an ISO-8601 time like 2026-03-02T10:00:00Z, got "${request.at}"`)
      const store = await getStoreProfile(db, storeId)
      const templates = await listMessageTemplates(db, storeId)
      // an event without occurred_at starts at the server's clock (the ingest route's default too)
      const occurred = (event as { occurred_at?: unknown }).occurred_at
      const at = request.at ?? (typeof occurred === 'string' ? undefined : ctx.clock.now().toISOString())
      return simulate({ workflow: { source: wf.source, fileName: workflowId, store: store ?? null, templates }, event, eventName, at }, openApp)
    },
  }
}

export type SimulationService = ReturnType<typeof createSimulationService>

/** What simulate opens its sandbox with: a virtual clock, dry-run actions and the stubs above. */
export interface SandboxOptions {
  clock: ManualClock
  dryRun: true
  extraActions: ActionDefinition[]
  log?: Logger
  /** backtest: per-event derivations the workflow cannot observe, left out */
  skipDerivations?: SkipDerivations
}

/** Opens an app on `config` (the composition root's createApp); simulate closes it. */
export type OpenApp = (config: Config, options: SandboxOptions) => Promise<ServiceContext & { close(): Promise<void> }>

export interface SimulationRequest {
  workflow: SimulatedWorkflow
  /** the event as read from its file, not yet checked */
  event: unknown
  /** the event file's name, for its errors */
  eventName: string
  /** virtual start time (ISO-8601, checked by the caller); default the event's occurred_at, else now */
  at?: string | undefined
}

/**
 * Dry-runs one event through a workflow in an in-memory database on a virtual clock: waits pass
 * instantly (the clock jumps to the run's next due time), external actions compute what they
 * would do without doing it, and nothing is written to the real database.
 */
export async function simulate(request: SimulationRequest, openApp: OpenApp): Promise<Simulation> {
  const { workflow, event: rawEvent } = request
  const occurred = (rawEvent as { occurred_at?: unknown } | null)?.occurred_at
  const start = new Date(request.at ?? (typeof occurred === 'string' && !Number.isNaN(Date.parse(occurred)) ? occurred : Date.now()))
  const clock = new ManualClock(start)
  const parsedEvent = parseEvent(rawEvent, { store: 'default', now: start })
  if (!parsedEvent.ok)
    throw new UserError(`${request.eventName}: ${parsedEvent.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { code: 'validation_failed' })
  const event = { ...parsedEvent.event, store: 'default' }

  // no secret file is written for a simulation: tokens only need to be stable within it
  const config = await loadConfig({}, { ...process.env, STOREFLOW_SECRET_KEY: process.env.STOREFLOW_SECRET_KEY ?? 'simulate' })
  const app = await openApp(
    { ...config, databaseUrl: ':memory:', smtpUrl: undefined },
    { clock, dryRun: true, extraActions: dryRunStubs(createActionRegistry()) },
  )
  try {
    if (workflow.store) await setStoreProfile(app.handle.db, 'default', workflow.store)
    for (const t of workflow.templates ?? []) await saveMessageTemplate(app.handle.db, 'default', t.name, t, clock.now())
    const parsed = parseWorkflow(workflow.source, (t) => app.actions.get(t), workflow.fileName)
    parsed.file.active = true
    await saveWorkflow(app.handle.db, 'default', parsed, workflow.source, clock.now())
    const workflowId = parsed.file.id

    await app.engine.ingest([event], { historical: false, source: 'simulate' })
    await app.engine.settle('simulate')
    if ((await runsOfWorkflow(app.handle.db, workflowId)).length === 0) {
      const trigger = parsed.file.trigger
      const reason =
        'event' in trigger && trigger.event !== event.type
          ? `the workflow starts on ${trigger.event}, the event is ${event.type}`
          : 'cron' in trigger
            ? 'the workflow runs on a schedule, not on events'
            : 'the trigger filter or the `when` condition was false for this event'
      return { steps: [], messages: [], started: false, runStatus: null, reason }
    }
    await runToEnd(app, clock, workflowId)
    return await trace(app, workflowId)
  } finally {
    await app.close()
  }
}

async function runToEnd(app: ServiceContext, clock: ManualClock, workflowId: string): Promise<void> {
  for (let jump = 0; jump <= MAX_JUMPS; jump++) {
    await app.engine.drain('simulate')
    const open = await runsOfWorkflow(app.handle.db, workflowId)
    const pending = open.filter((r) => !isEndedStatus(r.status))
    if (pending.length === 0) return
    const next = pending
      .map((r) => r.due_at)
      .filter((d): d is string => d !== null)
      .sort()[0]
    if (!next) return // waits only for an event: nothing more will come in a simulation
    const target = Date.parse(next)
    clock.set(new Date(Math.max(target, clock.now().getTime())))
  }
  throw new UserError(`the run had not ended after ${MAX_JUMPS} jumps of the virtual clock; does the workflow loop forever?`, { code: 'validation_failed' })
}

/** What a dry-run action said it did not do (http_request's request, a shop action's `shop: dry_run`), or null. */
function dryRunNote(output: Record<string, unknown>): string | null {
  const body = output.body as { dry_run?: unknown; method?: unknown; url?: unknown } | null | undefined
  if (body && typeof body === 'object' && body.dry_run === true) return `not performed in a simulation: ${String(body.method)} ${String(body.url)}`
  if (output.dry_run === true || output.shop === 'dry_run') return 'not performed in a simulation'
  return null
}

async function trace(app: ServiceContext, workflowId: string): Promise<Simulation> {
  const runs = await runsOfWorkflow(app.handle.db, workflowId)
  const steps: SimulatedStep[] = []
  const messages: SimulatedMessage[] = []
  for (const run of runs) {
    const rows = await stepsOfRun(app.handle.db, run.id)
    for (const row of rows) {
      const output = row.output ? (JSON.parse(row.output) as Record<string, unknown>) : null
      // the timeline's type is the action's name for action steps (send_email), else the step kind
      const type = row.type
      let note = ''
      if (row.type === 'wait' && row.wake_at) note = `waited until ${row.wake_at}`
      if (row.type === 'wait_for')
        note = output?.timed_out ? 'timed out: a simulation receives no further events' : output?.received ? `received ${String(output.event_type)}` : ''
      if (row.type === 'if' && output) note = `${String(output.branch)}`
      if (row.type === 'split' && output) note = `variant ${String(output.variant)}`
      if (row.status === 'skipped' && output) note = `skipped: ${JSON.stringify(output)}`
      if (row.error) note = row.error
      if (output && output.status === 'rendered' && typeof output.subject === 'string' && typeof output.to === 'string') {
        messages.push({ to: output.to, subject: output.subject, html: typeof output.html === 'string' ? output.html : '' })
        note = `to ${output.to}: ${output.subject}`
      } else if (output && output.simulated === true) {
        note = `not performed in a simulation: ${JSON.stringify(output.input).slice(0, 120)}`
      } else if (output && !note && dryRunNote(output)) {
        note = dryRunNote(output)!
      } else if (output && output.status === 'rendered' && typeof output.text === 'string' && !note) {
        note = output.text
      }
      steps.push({ id: row.step_id, type, status: row.status, at: row.ended_at ?? row.started_at, note, output })
    }
  }
  const last = runs[runs.length - 1]
  return { steps, messages, started: true, runStatus: last?.status ?? null, reason: null }
}
