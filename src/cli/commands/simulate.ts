import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { UserError } from '../../lib/errors.ts'
import type { SimulatedWorkflow } from '../../services/simulate.ts'
import { readEvents } from '../event-files.ts'
import { action, cliLogger, commandLineRoot, globals, printJson, printTable, withApp } from '../shared.ts'
import { readSource } from './workflows.ts'

/** The workflow's source: a file when the argument is one, else a workflow id in the database. */
async function workflowSource(arg: string, store: string): Promise<SimulatedWorkflow> {
  if (existsSync(arg)) return { source: readSource(arg), fileName: basename(arg), store: null }
  if (/[/\\]|\.(ya?ml|json)$/i.test(arg)) throw new UserError(`cannot read ${arg}: no such file`, { code: 'not_found' })
  // read only: simulate changes nothing, not even the schema
  return withApp((app) => app.services.simulation.storedWorkflow(store, arg), {}, { migrate: false })
}

function readOneEvent(path: string): unknown {
  const { events, problems } = readEvents(readSource(path))
  if (problems.length > 0) throw new UserError(`${path} line ${problems[0]!.line}: ${problems[0]!.message}`, { code: 'validation_failed' })
  if (events.length !== 1) throw new UserError(`${path} holds ${events.length} events; simulate takes exactly one`, { code: 'validation_failed' })
  return events[0]!.value
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
        const workflow = await workflowSource(fileOrId, store)
        const event = readOneEvent(opts.event)
        const at = opts.at ? opts.at : undefined
        if (at !== undefined && Number.isNaN(Date.parse(at)))
          throw new UserError(`--at must be an ISO-8601 time like 2026-03-02T10:00:00Z, got "${at}"`, { code: 'validation_failed' })
        // the sandbox is an app of its own on an in-memory database, opened by the composition root
        const { simulate } = await import('../../services/simulate.ts')
        const sim = await simulate({ workflow, event, eventName: basename(opts.event), at }, async (config, options) =>
          commandLineRoot().createApp(config, { ...options, log: await cliLogger() }),
        )
        if (opts.json) {
          printJson({ steps: sim.steps.map((s) => ({ id: s.id, type: s.type, status: s.status, at: s.at })), messages: sim.messages })
          if (!sim.started) console.error(`no run started: ${sim.reason}`)
          return
        }
        if (!sim.started) {
          console.log(`no run started: ${sim.reason}`)
          return
        }
        printTable(
          ['STEP', 'TYPE', 'STATUS', 'AT (virtual)', 'NOTE'],
          sim.steps.map((s) => [s.id, s.type, s.status, s.at, s.note.length > 80 ? `${s.note.slice(0, 79)}…` : s.note]),
        )
        console.log(`\nrun ${sim.runStatus}; ${sim.messages.length} message${sim.messages.length === 1 ? '' : 's'} rendered, none sent (dry run)`)
      }),
    )
}
