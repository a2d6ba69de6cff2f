import type { Command } from 'commander'
import { loadConfig } from '../../config.ts'
import { action, printJson } from '../shared.ts'

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the database, secret key, SMTP, connectors and public URL; exit 1 when a check fails (changes nothing)')
    .option('--json', 'print { ok, checks: [{ name, status: ok|warn|fail, reason, fix }] } as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const config = await loadConfig()
        const { runDoctor } = await import('../../services/doctor.ts')
        const report = await runDoctor(config)
        if (opts.json) printJson(report)
        else {
          for (const c of report.checks) {
            console.log(`${MARK[c.status]}  ${c.name}: ${c.reason}`)
            if (c.fix) console.log(`      fix: ${c.fix}`)
          }
          const failed = report.checks.filter((c) => c.status === 'fail').length
          const warned = report.checks.filter((c) => c.status === 'warn').length
          console.log(
            failed > 0
              ? `${failed} check${failed === 1 ? '' : 's'} failed`
              : `no check failed${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`,
          )
        }
        if (!report.ok) process.exitCode = 1
      }),
    )
}
