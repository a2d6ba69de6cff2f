import type { ActionContext, ActionCustomer, ActionServices, ActionStoreInfo, EmittedEvent, StoredMessage } from '../../src/plugin-api/index.ts'
import { createOutboundClient } from '../../src/lib/guarded-request.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import type { Clock } from '../../src/lib/clock.ts'
import { createStorage, toMessage, type ServicesConfig } from '../../src/store/storage.ts'
import { createTestEnv, type DialectName, type TestEnv } from './dialects.ts'

/**
 * An action run against the real storage: a fresh database (SQLite file or PostgreSQL schema)
 * and the same ActionServices the engine hands an action, so the outbox's one-row-per-key,
 * cap reservation and history reads are the product's own, not a copy of them.
 */
export interface ActionEnv {
  env: TestEnv
  services: ActionServices
  clock: TestEnv['clock']
  /** events the action emitted through `services.events.emit` */
  emitted: EmittedEvent[]
  /** the store's outbox rows, oldest first, as the action wrote them */
  outbox(storeId?: string): Promise<StoredMessage[]>
  cleanup(): Promise<void>
}

export async function actionEnv(dialect: DialectName, options: { at?: string; config?: Partial<ServicesConfig>; storeId?: string } = {}): Promise<ActionEnv> {
  const env = await createTestEnv(dialect)
  if (options.at) env.clock.set(options.at)
  const config: ServicesConfig = {
    smtpUrl: undefined,
    allowPrivateHttp: true,
    publicUrl: 'https://shop.example.test',
    secretKey: 'test-secret-key-0123456789',
    mailFrom: 'shop@example.test',
    ...options.config,
  }
  const emitted: EmittedEvent[] = []
  const storage = createStorage(env.app.handle, config, env.clock, createOutboundClient({ allowPrivate: config.allowPrivateHttp }))
  const services = storage.services(options.storeId ?? 'default', async (event) => {
    emitted.push(event)
    return { id: event.id ?? `evt_${emitted.length}`, duplicate: false }
  })
  const db = env.app.handle.db
  return {
    env,
    services,
    clock: env.clock,
    emitted,
    async outbox(storeId = options.storeId ?? 'default') {
      const rows = await db.selectFrom('messages').selectAll().where('store_id', '=', storeId).orderBy('created_at').orderBy('id').execute()
      return rows.map(toMessage)
    },
    cleanup: () => env.cleanup(),
  }
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
