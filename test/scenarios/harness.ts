import type { FastifyInstance, InjectOptions } from 'fastify'
import type { ParsedMail } from 'mailparser'
import { parseDuration } from '../../src/lib/durations.ts'
import { closeSmtpTransports } from '../../src/actions/send-email/smtp.ts'
import { buildServer } from '../../src/http/server.ts'
import { Scheduler } from '../../src/engine/scheduler.ts'
import { holdoutShare, inHoldout } from '../../src/engine/holdout.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createKey, updateSettings } from '../../src/store/stores.repo.ts'
import { createTestEnv, type DialectName, type TestEnv } from '../helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * One template's scenario, driven from outside as a store would drive it: the template installed
 * with `templates install` and activated, events posted to the events API with an ingest key,
 * the injected clock moved while a worker's passes (schedules, sweeps, router, due runs) run, and
 * what came out read where a store would see it: the mail a real SMTP server accepted, the calls
 * an HTTP receiver took, and the API's answers (tags, codes, purchase orders, invoices).
 */
export interface Scenario {
  env: TestEnv
  server: FastifyInstance
  /** the SMTP server the store's mail goes to */
  smtp: SmtpSink
  /** an HTTP receiver for chat webhooks, http_request steps and stand-ins of remote APIs */
  hook: HttpReceiver
  /** installs a template from the library as `storeflow templates install NAME` does, then activates it */
  install(template: string, options?: { active?: boolean }): Promise<void>
  /** posts one event (id and store filled in) and lets a worker route and run what it starts */
  send(type: string, data: Record<string, unknown>, options?: { id?: string; occurredAt?: string; history?: boolean }): Promise<void>
  /**
   * Moves the clock forward by `duration` ("1h", "3d") the way time passes for a worker: at every
   * `step` (default 1h) and at every moment a waiting run falls due, the schedules and sweeps fire
   * and due runs run. A larger step is faster and makes sweeps (abandoned carts, birthdays) fire
   * later within it; `step: null` stops only where runs fall due.
   */
  advance(duration: string, options?: { step?: string | null }): Promise<void>
  /** the mail the SMTP server accepted so far, in order */
  mail(): Mail[]
  /** mail accepted since the last call of `newMail` */
  newMail(): Mail[]
  /** GET (or another method) on the API with the store's admin key; throws unless 2xx */
  api<T = unknown>(path: string, options?: Omit<InjectOptions, 'url' | 'headers'>): Promise<T>
  /**
   * Whether the customer with this shop id falls in the workflow's holdout (its control group,
   * which gets no actions). The group follows storeflow's own customer key, which is random, so a
   * scenario that counts mail picks a customer outside it (`treatedCustomer`).
   */
  inHoldout(workflowId: string, customerId: string): Promise<boolean>
  /** closes everything and removes the database */
  close(): Promise<void>
}

export interface Mail {
  to: string
  subject: string
  text: string
  html: string
  headers: ParsedMail['headers']
}

const STORE = 'default'
let counter = 0

export async function startScenario(
  dialect: DialectName,
  options: { settings?: Record<string, unknown>; env?: Record<string, string> } = {},
): Promise<Scenario> {
  const smtp = await startSmtpSink()
  const hook = await startHttpReceiver()
  const env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_ALLOW_PRIVATE_HTTP: '1', ...options.env } })
  // quiet hours would hold mail until morning in the customer's zone; scenarios that are about
  // quiet hours say so in their settings
  await updateSettings(env.app.handle.db, STORE, { quiet_hours: null, ...options.settings })
  const server = await buildServer(env.app)
  const now = env.clock.now()
  const adminKey = (await createKey(env.app.handle.db, STORE, 'admin', now)).key
  const ingestKey = (await createKey(env.app.handle.db, STORE, 'ingest', now)).key
  const scheduler = new Scheduler(env.app.engine, silentLogger, { everyMs: 0 })
  let seen = 0

  const pass = async () => {
    await scheduler.pass()
    await env.app.engine.drain()
  }
  await pass()

  const request = async (opts: InjectOptions, key: string) => {
    const res = await server.inject({ ...opts, headers: { ...(opts.headers as Record<string, string>), authorization: `Bearer ${key}` } })
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`${opts.method ?? 'GET'} ${opts.url}: ${res.statusCode} ${res.body}`)
    return res.body === '' ? null : res.json()
  }
  const toMail = (m: ParsedMail): Mail => ({
    to: Array.isArray(m.to) ? m.to.map((t) => t.text).join(', ') : (m.to?.text ?? ''),
    subject: m.subject ?? '',
    text: m.text ?? '',
    html: typeof m.html === 'string' ? m.html : '',
    headers: m.headers,
  })
  const nextDue = async (): Promise<number | null> => {
    const row = await env.app.handle.db
      .selectFrom('runs')
      .select((eb) => eb.fn.min('due_at').as('due'))
      .where('store_id', '=', STORE)
      .where('due_at', 'is not', null)
      .where('ended_at', 'is', null)
      .executeTakeFirst()
    return row?.due ? Date.parse(String(row.due)) : null
  }

  return {
    env,
    server,
    smtp,
    hook,
    async install(template, opts = {}) {
      await env.app.services.workflows.installTemplate(STORE, template)
      if (opts.active !== false) await request({ method: 'POST', url: `/api/v1/workflows/${template}/activate` }, adminKey)
      await pass()
    },
    async send(type, data, opts = {}) {
      const id = opts.id ?? `${type}-${++counter}`
      const body = { id, type, store: STORE, occurred_at: opts.occurredAt ?? env.clock.now().toISOString(), data }
      await request({ method: 'POST', url: `/api/v1/events${opts.history ? '?history=true' : ''}`, payload: body }, ingestKey)
      await pass()
    },
    async advance(duration, opts = {}) {
      const target = env.clock.now().getTime() + parseDuration(duration)
      const step = opts.step === null ? null : parseDuration(opts.step ?? '1h')
      while (env.clock.now().getTime() < target) {
        const now = env.clock.now().getTime()
        const due = await nextDue()
        let next = step === null ? target : Math.min(target, now + step)
        if (due !== null && due > now && due < next) next = due
        env.clock.set(new Date(next).toISOString())
        await pass()
      }
      // what fell due exactly at the target
      await pass()
    },
    mail: () => smtp.received.map(toMail),
    newMail() {
      const all = smtp.received.slice(seen).map(toMail)
      seen = smtp.received.length
      return all
    },
    api: (path, opts = {}) => request({ method: 'GET', ...opts, url: path }, adminKey),
    async inHoldout(workflowId, customerId) {
      const workflow = await env.app.services.workflows.get(STORE, workflowId)
      const row = await env.app.handle.db
        .selectFrom('customers')
        .select('key')
        .where('store_id', '=', STORE)
        .where('external_id', '=', customerId)
        .executeTakeFirst()
      if (!row) throw new Error(`no customer ${customerId} in the store`)
      return inHoldout(row.key, workflowId, holdoutShare((workflow.definition as { holdout?: string | number }).holdout))
    },
    async close() {
      await server.close()
      await env.cleanup()
      // the pooled SMTP connections outlive an app (they are per process): closed, the sink closes at once
      closeSmtpTransports()
      await hook.close()
      await smtp.close()
    },
  }
}

/**
 * A customer the workflow treats (outside its holdout): `customer.created` for `base`, else for
 * `base` with `-2`, `-3`… added to its id and to its email's local part, until one is outside.
 */
export async function treatedCustomer<C extends { id: string; email: string }>(s: Scenario, workflowId: string, base: C): Promise<C> {
  for (let n = 1; ; n++) {
    const [local, domain] = base.email.split('@')
    const customer = n === 1 ? base : { ...base, id: `${base.id}-${n}`, email: `${local}+${n}@${domain}` }
    await s.send('customer.created', customer)
    if (!(await s.inHoldout(workflowId, customer.id))) return customer
  }
}

/** Whether the mail carries one-click unsubscribe headers (List-Unsubscribe), as marketing mail must and transactional mail does not. */
export function hasUnsubscribe(mail: Mail): boolean {
  const list = mail.headers.get('list') as { unsubscribe?: unknown } | undefined
  return Boolean(list?.unsubscribe)
}

/**
 * Opens the mail as a mail client does: fetches its open-tracking pixel (the 1×1 image at the end
 * of its HTML) from the server, then lets a worker route the message.opened that follows.
 */
export async function openMail(s: Scenario, mail: Mail): Promise<void> {
  const pixel = [...mail.html.matchAll(/<img\b[^>]*\bsrc="([^"]+)"[^>]*\bwidth="1"/gi)].pop()?.[1]
  if (!pixel) throw new Error(`no open pixel in the mail "${mail.subject}"`)
  const url = new URL(pixel.replace(/&amp;/g, '&'))
  const res = await s.server.inject({ method: 'GET', url: url.pathname + url.search })
  if (res.statusCode !== 200) throw new Error(`open pixel ${url.pathname}: ${res.statusCode}`)
  // route what the open caused, without moving the clock
  await s.advance('0ms')
}
