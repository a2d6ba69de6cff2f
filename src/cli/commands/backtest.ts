import { existsSync } from 'node:fs'
import { basename } from 'node:path'
import type { Command } from 'commander'
import { UserError } from '../../lib/errors.ts'
import { Progress } from '../progress.ts'
import { action, globals, printJson, withApp } from '../shared.ts'
import { readSource } from './workflows.ts'

/** The workflow to backtest: a file when the argument is one, else a stored workflow of the store. */
function workflowArg(arg: string): { id: string } | { source: string; fileName: string } {
  if (existsSync(arg)) return { source: readSource(arg), fileName: basename(arg) }
  if (/[/\\]|\.(ya?ml|json)$/i.test(arg)) throw new UserError(`cannot read ${arg}: no such file`, { code: 'not_found' })
  return { id: arg }
}

export function registerBacktest(program: Command): void {
  program
    .command('backtest <file_or_id>')
    .description(
      "replay the store's stored events of a period through a workflow as if it had been active, on a virtual clock, and report what it would have done; nothing stored or sent",
    )
    .option('--since <duration|date>', 'start of the period: a duration back from now ("90d") or an ISO-8601 date', '90d')
    .option(
      '--partitions <n>',
      "sandboxes side by side (a thread each), each replaying a share of the customers; default: the machine's cores (at most 4) for a period of 20,000 events or more; 1 replays in one",
    )
    .option(
      '--json',
      'print { from, to, runs, messages_by_step: { STEP_ID: n }, discount_codes, discount_value, revenue_attributed_estimate, customers_over_cap, … } as JSON',
    )
    .action(
      action(async (fileOrId: string, opts: { since: string; partitions?: string; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const workflow = workflowArg(fileOrId)
        const partitions = opts.partitions === undefined ? undefined : Number(opts.partitions)
        if (partitions !== undefined && !(Number.isInteger(partitions) && partitions >= 1 && partitions <= 4))
          throw new UserError(`--partitions: "${opts.partitions}" is not a whole number from 1 to 4`, {
            code: 'validation_failed',
            details: { field: '--partitions' },
          })
        const { parseSince } = await import('../../services/backtest.ts')
        // read only: a backtest changes nothing in the store, not even the schema
        const report = await withApp(
          async (app) => {
            const until = app.clock.now()
            const since = parseSince(opts.since, until)
            const progress = new Progress('backtest', 0)
            let progressDone = 0
            const result = await app.services.backtest.run(store, workflow, {
              since,
              until,
              ...(partitions !== undefined ? { partitions } : {}),
              onProgress: (done, total) => {
                progress.setTotal(total)
                progress.add(done - progressDone)
                progressDone = done
              },
            })
            progress.finish()
            return result
          },
          {},
          { migrate: false },
        )
        if (opts.json) {
          printJson(report)
          return
        }
        console.log(`backtest of ${report.workflow_id} over ${report.from} → ${report.to} (nothing stored or sent)\n`)
        const rows: Array<[string, string]> = [
          [
            'runs',
            `${report.runs} (${
              Object.entries(report.runs_by_status)
                .map(([s, n]) => `${n} ${s}`)
                .join(', ') || 'none'
            }; ${report.holdout_runs} in holdout)`,
          ],
          ['messages', String(report.messages_total)],
          ...Object.entries(report.messages_by_step).map(([step, n]): [string, string] => [`  ${step}`, String(n)]),
          [
            'messages skipped',
            Object.entries(report.messages_skipped)
              .map(([r, n]) => `${n} ${r}`)
              .join(', ') || '0',
          ],
          ['customers over the cap', `${report.customers_over_cap} (${report.customers_over_cap_by_other_workflows} by other workflows' mail)`],
          ['discount codes', `${report.discount_codes}, worth ${report.discount_value.toFixed(2)} ${report.currency}`],
          [
            'revenue attributed (estimate)',
            `${report.revenue_attributed_estimate.toFixed(2)} ${report.currency} from ${report.orders_attributed} orders within ${report.attribution_window} of a message`,
          ],
          ['events', `${report.events.period} in the period (${report.events.live} live), ${report.events.history} before it as history`],
          ['took', `${(report.duration_ms / 1000).toFixed(1)} s`],
        ]
        const width = Math.max(...rows.map((r) => r[0].length))
        for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`)
      }),
    )
}
