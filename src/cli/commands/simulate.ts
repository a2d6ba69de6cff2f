import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { createActionRegistry } from '../../actions/index.ts'
import { loadConfig } from '../../config.ts'
import { parseEvent } from '../../contracts/events.ts'
import { parseWorkflow } from '../../core/workflow/parse.ts'
import { ManualClock } from '../../lib/clock.ts'
import { UserError } from '../../lib/errors.ts'
import { createApp, type App } from '../../main.ts'
import type { ActionDefinition } from '../../plugin-api/define-action.ts'
import { getWorkflow, saveWorkflow } from '../../store/workflows.repo.ts'
import { readEvents } from '../event-files.ts'
import { action, cliLogger, globals, printJson, printTable } from '../shared.ts'
import { readSource } from './workflows.ts'

/**
 * Actions that declare `simulate: 'skip'` are replaced in a simulation by a stub that records
 * their input: simulate must never reach the outside world, whatever a plugin does.
 */
function dryRunStubs(actions: ReadonlyMap<string, ActionDefinition>): ActionDefinition[] {
  return [...actions.values()]
    .filter((a) => a.simulate === 'skip')
    .map((a) => ({ ...a, retry: { ...a.retry, maxAttempts: 1 }, run: async (ctx: { input: unknown }) => ({ simulated: true, would_run: a.type, input: ctx.input }) }) as unknown as ActionDefinition)
}

/** how many times the virtual clock may jump ahead before simulate gives up (a loop that never ends) */
const MAX_JUMPS = 1000
const ENDED = new Set(['completed', 'exited', 'failed', 'cancelled'])

export interface SimulatedStep {
  id: string
  type: string
  status: string
  at: string
  note: string
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

/** The workflow's source: a file when the argument is one, else a workflow id in the database. */
async function workflowSource(arg: string, store: string): Promise<{ source: string; fileName: string; storeRow: { name: string; currency: string; timezone: string; settings: string } | null }> {
  if (existsSync(arg)) return { source: readSource(arg), fileName: basename(arg), storeRow: null }
  if (/[/\\]|\.(ya?ml|json)$/i.test(arg)) throw new UserError(`cannot read ${arg}: no such file`, { code: 'not_found' })
  const config = await loadConfig()
  // read only: simulate changes nothing, not even the schema
  const real = await createApp(config, { log: cliLogger(), migrate: false })
  try {
    const wf = await getWorkflow(real.handle.db, store, arg).catch((err: unknown) => {
      // a database never set up (wrong STOREFLOW_DATA_DIR or DATABASE_URL) has no tables yet
      if (/no such table|does not exist/.test((err as Error).message)) {
        throw new UserError(`workflow "${arg}" not found: the database at ${real.handle.location} has no storeflow tables (wrong STOREFLOW_DATA_DIR or DATABASE_URL?)`, { code: 'not_found' })
      }
      throw err
    })
    const storeRow = await real.handle.db.selectFrom('stores').select(['name', 'currency', 'timezone', 'settings']).where('id', '=', store).executeTakeFirst()
    return { source: wf.source, fileName: arg, storeRow: storeRow ?? null }
  } finally {
    await real.close()
  }
}

function readOneEvent(path: string): unknown {
  const { events, problems } = readEvents(readSource(path))
  if (problems.length > 0) throw new UserError(`${path} line ${problems[0]!.line}: ${problems[0]!.message}`, { code: 'validation_failed' })
  if (events.length !== 1) throw new UserError(`${path} holds ${events.length} events; simulate takes exactly one`, { code: 'validation_failed' })
  return events[0]!.value
}

/**
 * Dry-runs one event through a workflow in an in-memory database on a virtual clock: waits pass
 * instantly (the clock jumps to the run's next due time), external actions compute what they
 * would do without doing it, and nothing is written to the real database.
 */
export async function simulate(options: { workflow: string; eventFile: string; at?: string; store: string }): Promise<Simulation> {
  const { source, fileName, storeRow } = await workflowSource(options.workflow, options.store)
  const rawEvent = readOneEvent(options.eventFile)
  if (options.at !== undefined && Number.isNaN(Date.parse(options.at))) throw new UserError(`--at must be an ISO-8601 time like 2026-03-02T10:00:00Z, got "${options.at}"`, { code: 'validation_failed' })

  const occurred = (rawEvent as { occurred_at?: unknown } | null)?.occurred_at
  const start = new Date(options.at ?? (typeof occurred === 'string' && !Number.isNaN(Date.parse(occurred)) ? occurred : Date.now()))
  const clock = new ManualClock(start)
  const parsedEvent = parseEvent(rawEvent, { store: 'default', now: start })
  if (!parsedEvent.ok) throw new UserError(`${basename(options.eventFile)}: ${parsedEvent.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { code: 'validation_failed' })
  const event = { ...parsedEvent.event, store: 'default' }

  // no secret file is written for a simulation: tokens only need to be stable within it
  const config = await loadConfig({}, { ...process.env, STOREFLOW_SECRET_KEY: process.env.STOREFLOW_SECRET_KEY ?? 'simulate' })
  const app = await createApp({ ...config, databaseUrl: ':memory:', smtpUrl: undefined }, { clock, dryRun: true, log: cliLogger(), extraActions: dryRunStubs(createActionRegistry()) })
  try {
    if (storeRow) await app.handle.db.updateTable('stores').set(storeRow).where('id', '=', 'default').execute()
    const parsed = parseWorkflow(source, (t) => app.actions.get(t), fileName)
    parsed.file.active = true
    await saveWorkflow(app.handle.db, 'default', parsed, source, clock.now())
    const workflowId = parsed.file.id

    const [result] = await app.engine.ingest([event], { historical: false, source: 'simulate' })
    if (!result || result.runs.length === 0) {
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

async function runToEnd(app: App, clock: ManualClock, workflowId: string): Promise<void> {
  const db = app.handle.db
  for (let jump = 0; jump <= MAX_JUMPS; jump++) {
    await app.engine.drain('simulate')
    const open = await db.selectFrom('runs').select(['status', 'due_at']).where('workflow_id', '=', workflowId).execute()
    const pending = open.filter((r) => !ENDED.has(r.status))
    if (pending.length === 0) return
    const next = pending.map((r) => r.due_at).filter((d): d is string => d !== null).sort()[0]
    if (!next) return // waits only for an event: nothing more will come in a simulation
    const target = Date.parse(next)
    clock.set(new Date(Math.max(target, clock.now().getTime())))
  }
  throw new UserError(`the run had not ended after ${MAX_JUMPS} jumps of the virtual clock; does the workflow loop forever?`, { code: 'validation_failed' })
}

async function trace(app: App, workflowId: string): Promise<Simulation> {
  const db = app.handle.db
  const runs = await db.selectFrom('runs').selectAll().where('workflow_id', '=', workflowId).orderBy('started_at').execute()
  const steps: SimulatedStep[] = []
  const messages: SimulatedMessage[] = []
  for (const run of runs) {
    const rows = await db.selectFrom('run_steps').selectAll().where('run_id', '=', run.id).orderBy('seq').execute()
    for (const row of rows) {
      const output = row.output ? (JSON.parse(row.output) as Record<string, unknown>) : null
      // the timeline's type is the action's name for action steps (send_email), else the step kind
      const type = row.type
      let note = ''
      if (row.type === 'wait' && row.wake_at) note = `waited until ${row.wake_at}`
      if (row.type === 'wait_for') note = output?.timed_out ? 'timed out: a simulation receives no further events' : output?.received ? `received ${String(output.event_type)}` : ''
      if (row.type === 'if' && output) note = `${String(output.branch)}`
      if (row.type === 'split' && output) note = `variant ${String(output.variant)}`
      if (row.status === 'skipped' && output) note = `skipped: ${JSON.stringify(output)}`
      if (row.error) note = row.error
      if (output && output.status === 'rendered' && typeof output.subject === 'string' && typeof output.to === 'string') {
        messages.push({ to: output.to, subject: output.subject, html: typeof output.html === 'string' ? output.html : '' })
        note = `to ${output.to}: ${output.subject}`
      } else if (output && output.simulated === true) {
        note = `not performed in a simulation: ${JSON.stringify(output.input).slice(0, 120)}`
      } else if (output && output.status === 'rendered' && typeof output.text === 'string' && !note) {
        note = output.text
      }
      steps.push({ id: row.step_id, type, status: row.status, at: row.ended_at ?? row.started_at, note })
    }
  }
  const last = runs[runs.length - 1]
  return { steps, messages, started: true, runStatus: last?.status ?? null, reason: null }
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate <file_or_id>')
    .description('dry-run one event through a workflow on a virtual clock (waits pass instantly); no side effects, nothing stored')
    .requiredOption('--event <file>', 'a JSON file holding the event')
    .option('--at <iso>', "virtual start time; default: the event's occurred_at, else now")
    .option('--json', 'print { steps: [{ id, type, status, at }], messages: [{ to, subject, html }] } as JSON')
    .action(
      action(async (fileOrId: string, opts: { event: string; at?: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const sim = await simulate({ workflow: fileOrId, eventFile: opts.event, ...(opts.at ? { at: opts.at } : {}), store })
        if (opts.json) {
          printJson({ steps: sim.steps.map((s) => ({ id: s.id, type: s.type, status: s.status, at: s.at })), messages: sim.messages })
          if (!sim.started) console.error(`no run started: ${sim.reason}`)
          return
        }
        if (!sim.started) {
          console.log(`no run started: ${sim.reason}`)
          return
        }
        printTable(['STEP', 'TYPE', 'STATUS', 'AT (virtual)', 'NOTE'], sim.steps.map((s) => [s.id, s.type, s.status, s.at, s.note.length > 80 ? `${s.note.slice(0, 79)}…` : s.note]))
        console.log(`\nrun ${sim.runStatus}; ${sim.messages.length} message${sim.messages.length === 1 ? '' : 's'} rendered, none sent (dry run)`)
      }),
    )
}
