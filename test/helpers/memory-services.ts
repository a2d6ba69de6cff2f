import type { ActionContext, ActionCustomer, ActionServices, ActionStoreInfo, EmittedEvent, OutboxMessage, StoredMessage } from '../../src/plugin-api/index.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import type { Clock } from '../../src/lib/clock.ts'
import { systemClock } from '../../src/lib/clock.ts'
import { createOutboundClient } from '../../src/lib/guarded-request.ts'

/**
 * ActionServices in memory, behaving like the real outbox: one row per idempotency key
 * (`record` returns the existing row and `created: false`), rows updated in place, the last
 * marketing send read from rows that say `sent`.
 */
export interface MemoryServices extends ActionServices {
  outbox: StoredMessage[]
  emitted: EmittedEvent[]
  tags: Map<string, Set<string>>
}

export function memoryServices(options: { clock?: Clock; config?: Partial<ActionServices['config']>; extra?: Record<string, unknown> } = {}): MemoryServices {
  const clock = options.clock ?? systemClock
  const outbox: StoredMessage[] = []
  const emitted: EmittedEvent[] = []
  const tags = new Map<string, Set<string>>()
  const byKey = new Map<string, StoredMessage>()
  const byId = new Map<string, StoredMessage>()
  let seq = 0
  const config: ActionServices['config'] = {
    smtpUrl: undefined,
    allowPrivateHttp: true,
    publicUrl: 'https://shop.example.test',
    secretKey: 'test-secret-key-0123456789',
    mailFrom: 'shop@example.test',
    ...options.config,
  }

  const services: MemoryServices = {
    outbox,
    emitted,
    tags,
    templates: { load: async () => null },
    customers: {
      async addTags(customerKey, add) {
        const set = tags.get(customerKey) ?? new Set<string>()
        tags.set(customerKey, set)
        const added = add.filter((t) => !set.has(t))
        for (const t of add) set.add(t)
        return added
      },
      async removeTags(customerKey, remove) {
        const set = tags.get(customerKey) ?? new Set<string>()
        const removed = remove.filter((t) => set.has(t))
        for (const t of remove) set.delete(t)
        return removed
      },
    },
    messages: {
      async record(message: OutboxMessage) {
        const existing = byKey.get(message.idempotencyKey)
        if (existing) return { message: structuredClone(existing), created: false }
        const row: StoredMessage = {
          ...structuredClone(message),
          id: `msg_${String(++seq).padStart(6, '0')}`,
          createdAt: clock.now().toISOString(),
          sentAt: null,
        }
        byKey.set(row.idempotencyKey, row)
        byId.set(row.id, row)
        outbox.push(row)
        return { message: structuredClone(row), created: true }
      },
      async reserveMarketingSlot(messageId, customerKey, _channel, since, now) {
        const taken = outbox.some((row) => row.id !== messageId && row.customerKey === customerKey && row.category === 'marketing' && (row.status === 'queued' || row.status === 'sending' || row.status === 'sent') && row.sentAt !== null && new Date(row.sentAt) > since)
        if (taken) return false
        const row = byId.get(messageId)
        if (row) Object.assign(row, { sentAt: now.toISOString() })
        return true
      },
      async lastMarketingSentAt(customerKey, _channel) {
        let last: Date | null = null
        for (const row of outbox) {
          if (row.customerKey !== customerKey || row.category !== 'marketing') continue
          if (row.status !== 'sent' || !row.sentAt) continue
          const at = new Date(row.sentAt)
          if (!last || at > last) last = at
        }
        return last
      },
      async update(id, patch) {
        const row = byId.get(id)
        if (!row) throw new Error(`no message ${id}`)
        if (patch.status !== undefined) row.status = patch.status
        if (patch.error !== undefined) row.error = patch.error
        if (patch.messageId !== undefined) row.messageId = patch.messageId
        if (patch.sentAt !== undefined) row.sentAt = patch.sentAt
      },
    },
    events: {
      async emit(event) {
        emitted.push(event)
        return { id: event.id ?? `evt_${emitted.length}`, duplicate: false }
      },
    },
    config,
    // the real guarded client, under the same allowPrivateHttp as `config`
    http: createOutboundClient({ allowPrivate: config.allowPrivateHttp }),
    ...options.extra,
  }
  return services
}

/** A context as the engine would build it for one attempt of one step. */
export function actionContext<I>(
  input: I,
  options: {
    services: ActionServices
    clock: Clock
    customer?: Partial<ActionCustomer> | null
    store?: Partial<ActionStoreInfo>
    runId?: string
    stepKey?: string
    workflowId?: string
    attempt?: number
    scope?: Record<string, unknown>
    dryRun?: boolean
  },
): ActionContext<I> {
  const runId = options.runId ?? 'run_1'
  const stepKey = options.stepKey ?? 'step_1'
  const store: ActionStoreInfo = { id: 'default', name: 'Acme Shop', currency: 'USD', timezone: 'UTC', settings: {}, ...options.store }
  const customer: ActionCustomer | null =
    options.customer === null
      ? null
      : {
          key: 'cus_1',
          id: '1001',
          email: 'ada@example.test',
          phone: '+15550001111',
          first_name: 'Ada',
          last_name: 'Lovelace',
          accepts_marketing: true,
          unsubscribed_at: null,
          timezone: null,
          tags: [],
          ...options.customer,
        }
  return {
    input,
    idempotencyKey: `${runId}:${stepKey}`,
    run: { id: runId, workflowId: options.workflowId ?? 'wf_1', workflowVersion: 1, stepKey, attempt: options.attempt ?? 1, maxAttempts: 5 },
    store,
    customer,
    scope: { customer, store: { name: store.name, currency: store.currency, settings: store.settings }, ...options.scope },
    clock: options.clock,
    log: silentLogger,
    services: options.services,
    dryRun: options.dryRun ?? false,
  }
}
