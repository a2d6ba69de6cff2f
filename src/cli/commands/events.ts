import { basename } from 'node:path'
import type { Command } from 'commander'
import type { CanonicalEvent } from '../../contracts/events.ts'
import { readEvents } from '../event-files.ts'
import { Progress } from '../progress.ts'
import { action, globals, printJson, withApp } from '../shared.ts'
import { readSource } from './workflows.ts'

interface Rejection {
  /** which event (ordinal over all files): several issues of one event count once */
  event: number
  file: string
  line: number | null
  /** position in a JSON array file */
  index?: number | undefined
  field: string
  message: string
}

function where(r: Rejection): string {
  if (!r.file) return 'event'
  return `${r.file}${r.line !== null ? ` line ${r.line}` : ''}${r.index !== undefined ? ` (event ${r.index})` : ''}`
}

export function registerEvents(program: Command): void {
  const events = program.command('events').description('canonical events')
  events
    .command('send <file...>')
    .description('ingest canonical events from JSON (one event, an array, or { events: [...] }) or NDJSON files')
    .option('--history', 'import past events: they update the store view in time order but start no runs')
    .option('--json', 'print { accepted, duplicates, rejected: [{ file, line, field, message }] } as JSON')
    .action(
      action(async (files: string[], opts: { history?: boolean; json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const { MAX_EVENT_AHEAD_MS, parseEvent } = await import('../../contracts/events.ts')
        const rejected: Rejection[] = []
        const valid: CanonicalEvent[] = []
        const now = new Date()
        let ordinal = 0
        for (const file of files) {
          const name = basename(file)
          const { events: raws, problems } = readEvents(readSource(file))
          for (const p of problems) rejected.push({ event: ordinal++, file: name, line: p.line, field: '', message: p.message })
          for (const raw of raws) {
            const parsed = parseEvent(raw.value, { store, now, maxAheadMs: MAX_EVENT_AHEAD_MS })
            const event = ordinal++
            // the command acts on one store, like an API key: an event naming another is refused
            if (parsed.ok && parsed.event.store !== store)
              rejected.push({
                event,
                file: name,
                line: raw.line,
                index: raw.index,
                field: 'store',
                message: `this command acts on store "${store}" (--store); the event names "${parsed.event.store}"`,
              })
            else if (parsed.ok) valid.push(parsed.event)
            else
              for (const issue of parsed.issues)
                rejected.push({ event, file: name, line: raw.line, index: raw.index, field: issue.path, message: issue.message })
          }
        }
        // history goes in in time order, so the store view is built as it happened
        if (opts.history) valid.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at))

        const progress = new Progress(opts.history ? 'importing history' : 'sending events', valid.length)
        const { accepted, duplicates } = await withApp((app) =>
          app.services.events.ingestAll(valid, { historical: opts.history === true, source: 'cli' }, progress),
        )

        const rejectedEvents = new Set(rejected.map((r) => r.event)).size
        if (opts.json) {
          printJson({ accepted, duplicates, rejected: rejected.map((r) => ({ file: r.file, line: r.line, field: r.field, message: r.message })) })
        } else {
          console.log(`accepted ${accepted}, duplicates ${duplicates}, rejected ${rejectedEvents}${opts.history ? ' (history: no runs started)' : ''}`)
        }
        for (const r of rejected) console.error(`${where(r)}${r.field ? `: ${r.field}` : ''}: ${r.message}`)
        if (rejected.length > 0) {
          console.error(`error: ${rejectedEvents} event${rejectedEvents === 1 ? '' : 's'} rejected (nothing of them was stored)`)
          process.exitCode = 1
        }
      }),
    )
}
