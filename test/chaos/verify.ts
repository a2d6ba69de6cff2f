import type { ReceivedRequest } from '../helpers/http-receiver.ts'
import type { CopyFate } from '../helpers/smtp-sink.ts'
import type { ExpectedEvent } from './shop.ts'

/**
 * The chaos suite's workflows, what each must do outside, and the checks of what was seen against
 * what the accepted deliveries call for. Each check adds what it finds wrong to `problems` and
 * returns its figures for the report.
 */

/** Workflows whose effects the suite counts. Every run of them is one trigger event's: `concurrent` lifts the one-active-run rule. */
export const WORKFLOWS = (hook: string) => [
  `id: chaos-confirm
name: Order confirmation
trigger: { event: order.created }
reentry: { concurrent: true }
steps:
  - action: send_email
    id: confirm
    with: { category: transactional, subject: 'confirm {{ trigger.data.id }}', html: '<p>Thanks for order {{ trigger.data.id }}</p>' }
  - action: http_request
    id: notify
    with: { url: '${hook}/orders', body: { ref: 'confirm:{{ trigger.data.id }}' }, timeout: 5s }
`,
  `id: chaos-paid
name: Payment to the warehouse
trigger: { event: order.paid }
reentry: { concurrent: true }
steps:
  - action: tag_customer
    with: { tags: ['paid'] }
  - action: http_request
    id: notify
    with: { url: '${hook}/paid', body: { ref: 'paid:{{ trigger.data.id }}' }, timeout: 5s }
`,
  `id: chaos-welcome
name: Welcome
trigger: { event: customer.created }
reentry: { concurrent: true }
steps:
  - action: send_email
    id: welcome
    with: { category: transactional, subject: 'welcome {{ trigger.data.id }}', html: '<p>Welcome</p>' }
`,
  `id: chaos-nudge
name: Cart nudge after a short wait
trigger: { event: cart.updated }
reentry: { concurrent: true }
steps:
  - wait: 3s
  - action: send_email
    id: nudge
    with: { category: transactional, subject: 'nudge {{ trigger.data.id }}', html: '<p>Your cart</p>' }
`,
  `id: chaos-recover
name: Checkout recovery, a month later
trigger: { event: checkout.started }
reentry: { concurrent: true }
steps:
  - wait: 30d
  - action: send_email
    id: recover
    with: { category: transactional, subject: 'recover {{ trigger.data.id }}', html: '<p>Still thinking?</p>' }
`,
]

/** What each trigger type starts, and the effects its run must have outside. */
export const EFFECTS: Record<string, { workflow: string; email?: (id: string) => string; http?: (id: string) => string; waits?: true }> = {
  'order.created': { workflow: 'chaos-confirm', email: (id) => `confirm ${id}`, http: (id) => `confirm:${id}` },
  'order.paid': { workflow: 'chaos-paid', http: (id) => `paid:${id}` },
  'customer.created': { workflow: 'chaos-welcome', email: (id) => `welcome ${id}` },
  'cart.updated': { workflow: 'chaos-nudge', email: (id) => `nudge ${id}` },
  'checkout.started': { workflow: 'chaos-recover', waits: true },
}

export type RunItem = { id: string; workflow_id: string; status: string; trigger_event_id: string }
export type Step = {
  id: string
  key?: string
  type: string
  status: string
  attempts: number
  wake_at?: string | null
  output?: { smtp_message_id?: string; possible_duplicate?: boolean } | null
}
export type EventItem = { id: string; type: string; data: { id?: unknown } }

export const countBy = <T>(items: Iterable<T>, key: (t: T) => string): Map<string, number> => {
  const m = new Map<string, number>()
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1)
  return m
}

/** Every accepted delivery's events are stored once: by type and the shop's resource id (and by id where the shop chose it). */
export function checkEvents(expected: ExpectedEvent[], stored: EventItem[], problems: string[]) {
  const storedBy = countBy(stored, (e) => `${e.type} ${String(e.data.id)}`)
  const expectedBy = countBy(expected, (e) => `${e.type} ${e.dataId}`)
  let lost = 0
  let duplicated = 0
  for (const [k, n] of expectedBy) {
    const s = storedBy.get(k) ?? 0
    if (s < n) problems.push(`event lost: ${k} (${n} accepted, ${s} stored)`)
    if (s > n) problems.push(`event stored twice: ${k} (${n} accepted, ${s} stored)`)
    lost += Math.max(0, n - s)
    duplicated += Math.max(0, s - n)
  }
  for (const [k, s] of storedBy) {
    if (expectedBy.has(k)) continue
    problems.push(`event stored that no accepted delivery carried: ${k} ×${s}`)
    duplicated += s
  }
  const ids = new Set(stored.map((e) => e.id))
  for (const e of expected) if (e.id && !ids.has(e.id)) problems.push(`event ${e.id} accepted, not stored`)
  return { expected: expected.length, stored: stored.length, lost, duplicated }
}

/**
 * One run per stored trigger event, of its workflow; each completed, or waiting on a wait that
 * ends more than a day after `now` (the 30-day delay). Anything else is failed or stuck.
 */
export function checkRuns(stored: EventItem[], runs: RunItem[], steps: Map<string, Step[]>, now: number, problems: string[]) {
  const byEvent = new Map<string, RunItem[]>()
  for (const r of runs) byEvent.set(r.trigger_event_id, [...(byEvent.get(r.trigger_event_id) ?? []), r])
  let missing = 0
  let duplicated = 0
  for (const e of stored) {
    const own = (byEvent.get(e.id) ?? []).filter((r) => r.workflow_id === EFFECTS[e.type]?.workflow)
    if (own.length === 0) problems.push(`no run for ${e.type} ${String(e.data.id)} (${e.id})`)
    if (own.length > 1) problems.push(`${own.length} runs for ${e.type} ${String(e.data.id)} (${e.id})`)
    missing += own.length === 0 ? 1 : 0
    duplicated += Math.max(0, own.length - 1)
  }
  let correctlyWaiting = 0
  let stuck = 0
  let failed = 0
  for (const r of runs) {
    if (r.status === 'completed') continue
    const open = (steps.get(r.id) ?? []).filter((s) => s.status !== 'completed')
    const wake = open.find((s) => s.type === 'wait' && s.status === 'waiting')?.wake_at
    if (r.status === 'waiting' && wake && Date.parse(wake) > now + 24 * 3600_000) {
      correctlyWaiting++
      continue
    }
    if (r.status === 'failed') failed++
    else stuck++
    problems.push(`run ${r.status === 'failed' ? 'failed' : 'stuck'}: ${r.id} (${r.workflow_id}) ${r.status}: ${JSON.stringify(open)}`)
  }
  return { expected: stored.length, missing, duplicated, correctlyWaiting, stuck, failed }
}

/**
 * Each expected email (by subject) reached the SMTP server as one message (one Message-ID), once.
 * A message whose step says `possible_duplicate` may have come once more, and no more than that
 * (the product hands a message over again after one cut-off hand-over, never after a second).
 * `flagged`: Message-ID → the attempts of its step.
 */
export function checkEmails(
  expected: ExpectedEvent[],
  mail: { messageIds: string[]; subjects: string[]; fates: CopyFate[] },
  flagged: Map<string, number>,
  problems: string[],
) {
  const expectedBy = countBy(
    expected.filter((e) => EFFECTS[e.type]?.email),
    (e) => EFFECTS[e.type]!.email!(e.dataId),
  )
  const idsBySubject = new Map<string, Set<string>>()
  mail.messageIds.forEach((id, i) => {
    const subject = mail.subjects[i] ?? ''
    idsBySubject.set(subject, (idsBySubject.get(subject) ?? new Set()).add(id))
  })
  const copies = countBy(mail.messageIds, (id) => id)
  let lost = 0
  let duplicates = 0
  for (const [subject, n] of expectedBy) {
    const ids = idsBySubject.get(subject) ?? new Set<string>()
    if (ids.size < n) problems.push(`email lost: "${subject}" (${n} expected, ${ids.size} received)`)
    if (ids.size > n) problems.push(`email sent by two steps: "${subject}" (${n} expected, ${ids.size} distinct messages)`)
    lost += Math.max(0, n - ids.size)
    duplicates += Math.max(0, ids.size - n)
    for (const id of ids) {
      const c = copies.get(id) ?? 0
      const attempts = flagged.get(id)
      const allowed = attempts === undefined ? 1 : 2
      if (c > allowed) {
        const fates = mail.messageIds.flatMap((m, i) => (m === id ? [mail.fates[i]] : [])).join(', ')
        problems.push(
          `email ${id} ("${subject}") received ${c} times (${fates})${attempts === undefined ? '' : `, flagged possible_duplicate after ${attempts} attempts`}`,
        )
      }
      duplicates += Math.max(0, c - allowed)
    }
  }
  for (const [subject, ids] of idsBySubject) {
    if (expectedBy.has(subject)) continue
    problems.push(`email no delivery called for: "${subject}" ×${ids.size}`)
    duplicates += ids.size
  }
  const flaggedCopies = [...flagged.keys()].filter((id) => (copies.get(id) ?? 0) > 1).length
  const flaggedMore = [...flagged.keys()].filter((id) => (copies.get(id) ?? 0) > 2).length
  return {
    expected: expected.filter((e) => EFFECTS[e.type]?.email).length,
    received: mail.messageIds.length,
    distinct: copies.size,
    flagged: flagged.size,
    flaggedCopies,
    flaggedMore,
    duplicates,
    lost,
  }
}

/**
 * Each expected HTTP call (by the `ref` in its body) was taken (answered 2xx) under one
 * Idempotency-Key; a key taken more than once only within the attempts its step records.
 * `attempts`: Idempotency-Key → the attempts of its step.
 */
export function checkCalls(expected: ExpectedEvent[], requests: ReceivedRequest[], attempts: Map<string, number>, problems: string[]) {
  const expectedBy = countBy(
    expected.filter((e) => EFFECTS[e.type]?.http),
    (e) => EFFECTS[e.type]!.http!(e.dataId),
  )
  const taken = requests.filter((r) => r.status >= 200 && r.status < 300)
  const keysByRef = new Map<string, Set<string>>()
  for (const r of taken) {
    const ref = String((JSON.parse(r.body) as { ref?: unknown }).ref)
    keysByRef.set(ref, (keysByRef.get(ref) ?? new Set()).add(r.key ?? ''))
  }
  const takenByKey = countBy(taken, (r) => r.key ?? '')
  let lost = 0
  let duplicates = 0
  for (const [ref, n] of expectedBy) {
    const keys = keysByRef.get(ref) ?? new Set<string>()
    if (keys.size < n) problems.push(`HTTP call lost: ${ref} (${n} expected, ${keys.size} taken)`)
    if (keys.size > n) problems.push(`HTTP call made by two steps: ${ref} (${n} expected, keys ${[...keys].join(', ')})`)
    lost += Math.max(0, n - keys.size)
    duplicates += Math.max(0, keys.size - n)
  }
  for (const [ref, keys] of keysByRef) {
    if (expectedBy.has(ref)) continue
    problems.push(`HTTP call no delivery called for: ${ref} ×${keys.size}`)
    duplicates += keys.size
  }
  for (const [key, n] of takenByKey) {
    const recorded = attempts.get(key)
    if (recorded === undefined) problems.push(`HTTP request with an Idempotency-Key of no step: ${key}`)
    else if (n > recorded) problems.push(`Idempotency-Key ${key} taken ${n} times, more than the ${recorded} attempts its step records`)
  }
  return {
    expected: [...expectedBy.values()].reduce((a, b) => a + b, 0),
    applied: takenByKey.size,
    refused503: requests.filter((r) => r.status === 503).length,
    repeatsAbsorbed: taken.length - takenByKey.size,
    duplicates,
    lost,
  }
}
