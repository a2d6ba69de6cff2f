import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/processes.ts'

/** What the chaos suite saw, counted outside the product (the store's API only where said). */
export interface ChaosReport {
  started_at: string
  duration_s: number
  /** seconds of traffic while faults were injected */
  traffic_s: number
  events: {
    /** deliveries the shop made, by channel (each sent until answered 2xx) */
    sent: Record<string, number>
    /** HTTP requests those took, resends included */
    requests: number
    /** deliveries answered 2xx */
    accepted: number
    /** answers other than 2xx, by status (0: no answer: the API node was down) */
    refused: Record<string, number>
    /** canonical events the accepted deliveries must have left in the store */
    expected: number
    stored: number
    lost: number
    duplicated: number
  }
  runs: {
    expected: number
    by_status: Record<string, number>
    /** waiting on a wait that ends in the future (a 30-day delay) */
    correctly_waiting: number
    missing: number
    duplicated: number
    stuck: number
    failed: number
  }
  emails: {
    expected: number
    /** messages the SMTP server took, copies included */
    received: number
    /** distinct Message-IDs among them */
    distinct: number
    /** steps that announced a possible second copy (output possible_duplicate) */
    flagged_possible_duplicates: number
    /** of those, messages that did arrive more than once */
    flagged_received_twice: number
    /** of those, messages that arrived three times or more: hand-overs cut more than once */
    flagged_received_more: number
    /** a second copy not announced, or more than one announced extra copy, or a second message for one expected email */
    duplicates: number
    lost: number
  }
  http: {
    expected: number
    /** Idempotency-Keys the endpoint took (answered 2xx) */
    applied: number
    /** requests answered with the injected 503 */
    refused_503: number
    /** 2xx repeats of a key already taken (absorbed by the key, each after an attempt the product recorded) */
    repeats_absorbed: number
    /** an expected call taken under two keys (acted twice) */
    duplicates: number
    lost: number
  }
  leases: {
    /** runs leased once everything was quiet, workers still up */
    runs_held_when_quiet: number
    /** after every process stopped: runs and routers still leased */
    runs_held_after_stop: number
    routers_held_after_stop: number
  }
  faults: Record<string, number>
  /** kills that landed with requests at the API node, mail in the SMTP server's hands or a call at the HTTP endpoint */
  faults_landed_under_way: number
  /** SMTP connections and commands refused while the server was down */
  smtp_refusals: number
  /** what happened when */
  timeline: string[]
  /** every check that failed; empty when the run passed */
  problems: string[]
}

export function totalFaults(report: ChaosReport): number {
  return Object.values(report.faults).reduce((a, b) => a + b, 0)
}

/** The report as a table for the CI log. */
export function formatReport(r: ChaosReport): string {
  const rows: Array<[string, string]> = []
  const row = (name: string, value: string | number) => rows.push([name, String(value)])
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'
  const sent = Object.values(r.events.sent).reduce((a, b) => a + b, 0)
  row('events sent (deliveries)', `${sent} (${list(r.events.sent)})`)
  row('  HTTP requests, resends included', r.events.requests)
  row('  accepted (2xx)', r.events.accepted)
  row('  answers other than 2xx', list(r.events.refused))
  row('  canonical events expected / stored', `${r.events.expected} / ${r.events.stored}`)
  row('  lost / duplicated', `${r.events.lost} / ${r.events.duplicated}`)
  row('runs expected', r.runs.expected)
  row('  by status', list(r.runs.by_status))
  row('  correctly waiting (30-day delay)', r.runs.correctly_waiting)
  row('  missing / duplicated / stuck / failed', `${r.runs.missing} / ${r.runs.duplicated} / ${r.runs.stuck} / ${r.runs.failed}`)
  row('emails expected', r.emails.expected)
  row('  received at the SMTP server (distinct)', `${r.emails.received} (${r.emails.distinct})`)
  row(
    '  flagged possible duplicate by storeflow (received 2+, 3+ times)',
    `${r.emails.flagged_possible_duplicates} (${r.emails.flagged_received_twice}, ${r.emails.flagged_received_more})`,
  )
  row('  duplicates / lost', `${r.emails.duplicates} / ${r.emails.lost}`)
  row('HTTP calls expected', r.http.expected)
  row('  applied (Idempotency-Key taken)', r.http.applied)
  row('  answered 503 (injected)', r.http.refused_503)
  row('  repeats absorbed by Idempotency-Key', r.http.repeats_absorbed)
  row('  duplicates / lost', `${r.http.duplicates} / ${r.http.lost}`)
  row(
    'leases held: quiet / after stop (runs, routers)',
    `${r.leases.runs_held_when_quiet} / ${r.leases.runs_held_after_stop}, ${r.leases.routers_held_after_stop}`,
  )
  row('faults injected', `${totalFaults(r)} (${list(r.faults)})`)
  row('  kills landing mid-request, mid-mail or mid-call', r.faults_landed_under_way)
  row('  SMTP refusals while down', r.smtp_refusals)
  row('traffic / whole run', `${r.traffic_s.toFixed(0)} s / ${r.duration_s.toFixed(0)} s`)
  row('LOST', r.events.lost + r.runs.missing + r.emails.lost + r.http.lost)
  row('DUPLICATED', r.events.duplicated + r.runs.duplicated + r.emails.duplicates + r.http.duplicates)
  row('verdict', r.problems.length === 0 ? 'PASS' : `FAIL (${r.problems.length} problems)`)
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)
  const rule = '-'.repeat(Math.min(100, Math.max(...lines.map((l) => l.length))))
  return ['storeflow chaos report', rule, ...lines, rule, ...r.problems.slice(0, 40).map((p) => `problem: ${p}`), ...r.timeline].join('\n')
}

/** Where the last report is written (gitignored), for CI logs and a person to read. */
export const REPORT_FILE = join(REPO_ROOT, 'test-artifacts', 'chaos', 'last-report.json')

export function writeReport(r: ChaosReport): string {
  mkdirSync(join(REPORT_FILE, '..'), { recursive: true })
  writeFileSync(REPORT_FILE, `${JSON.stringify(r, null, 2)}\n`)
  return REPORT_FILE
}
