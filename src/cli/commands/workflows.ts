import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { UserError } from '../../lib/errors.ts'
import { action, globals, printJson, printTable, withApp } from '../shared.ts'

export function describeTrigger(trigger: Record<string, unknown>): string {
  if (typeof trigger.event === 'string') return trigger.filter ? `${trigger.event} [${String(trigger.filter)}]` : trigger.event
  if (typeof trigger.cron === 'string') return `cron ${trigger.cron}${trigger.timezone ? ` (${String(trigger.timezone)})` : ''}`
  return JSON.stringify(trigger)
}

export function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
      code: 'not_found',
    })
  }
}

function summaryJson(w: { id: string; name: string; version: number; active: boolean; trigger: Record<string, unknown> }) {
  return { id: w.id, name: w.name, version: w.version, active: w.active, trigger: w.trigger }
}

export function registerWorkflows(program: Command): void {
  const workflows = program.command('workflows').description('manage workflows as files')

  workflows
    .command('list')
    .description("list the store's workflows")
    .option('--json', 'print [{ id, name, version, active, trigger }] as JSON')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const rows = await withApp((app) => app.services.workflows.list(store))
        if (opts.json) printJson(rows.map(summaryJson))
        else if (rows.length === 0) console.log('no workflows yet: import one with `storeflow workflows import FILE` or `storeflow templates install NAME`')
        else
          printTable(
            ['ID', 'NAME', 'VERSION', 'ACTIVE', 'TRIGGER'],
            rows.map((w) => [w.id, w.name, w.version, w.active ? 'yes' : 'no', describeTrigger(w.trigger)]),
          )
      }),
    )

  workflows
    .command('import <file...>')
    .description('save workflows from YAML or JSON files (a new version when the definition changed)')
    .option('--json', 'print the saved workflows as JSON')
    .action(
      action(async (files: string[], opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const sources = files.map((f) => ({ file: f, source: readSource(f) }))
        const results = await withApp(async (app) => {
          // validate every file first, so a bad file in the list saves nothing
          for (const s of sources) app.services.workflows.parse(s.source, basename(s.file))
          const out = []
          for (const s of sources) out.push({ file: s.file, ...(await app.services.workflows.import(store, s.source, basename(s.file))) })
          return out
        })
        if (opts.json) {
          printJson(results.map((r) => ({ ...summaryJson(r.summary), created: r.created })))
          return
        }
        for (const r of results) {
          const w = r.summary
          console.log(`${r.created ? 'saved' : 'unchanged'} ${w.id} v${w.version} (${w.active ? 'active' : 'inactive'}) from ${r.file}`)
        }
      }),
    )

  workflows
    .command('export <id>')
    .description('print a workflow as a file')
    .option('--format <format>', 'yaml | json', 'yaml')
    .action(
      action(async (id: string, opts: { format: string }, cmd: Command) => {
        const { store } = globals(cmd)
        if (opts.format !== 'yaml' && opts.format !== 'json')
          throw new UserError(`--format must be yaml or json, got "${opts.format}"`, { code: 'validation_failed' })
        const format = opts.format
        process.stdout.write(await withApp((app) => app.services.workflows.export(store, id, format)))
      }),
    )

  for (const [name, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    workflows
      .command(`${name} <id>`)
      .description(active ? 'start running the workflow on matching events' : 'stop starting new runs (runs in progress continue)')
      .option('--json', 'print the workflow as JSON')
      .action(
        action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
          const { store } = globals(cmd)
          const w = await withApp((app) => app.services.workflows.setActive(store, id, active))
          if (opts.json) printJson(summaryJson(w))
          else console.log(`${w.id} v${w.version} is ${active ? 'active' : 'inactive'}`)
        }),
      )
  }
}
