import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/lib/clock.ts'
import { insertDelivery } from '../../src/store/deliveries.repo.ts'
import { createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { startStoreflow, waitFor } from '../helpers/processes.ts'

/** Retention holds on an idle installation: a worker prunes 30-day-old deliveries when it starts. */
describe('delivery retention', () => {
  let env: TestEnv
  beforeAll(async () => {
    env = await createTestEnv('sqlite', { clock: systemClock as never })
  })
  afterAll(async () => {
    await env.cleanup()
  })

  it('storeflow worker deletes deliveries older than 30 days, keeps newer ones', async () => {
    const day = 86_400_000
    const delivery = (id: string, ageDays: number) => ({
      id,
      connector_id: 'con_x',
      store_id: 'default',
      platform: 'shopify',
      topic: 'orders/create',
      headers: {},
      body: '{"email":"old@example.com"}',
      verified: true,
      verify_error: null,
      dedupe_key: id,
      delivery_id: id,
      unknown_topic: false,
      status: 'processed' as const,
      result: { events: [] } as never,
      error: null,
      received_at: new Date(Date.now() - ageDays * day).toISOString(),
      processed_at: null,
    })
    await insertDelivery(env.app.handle.db, delivery('old', 31), { prune: false })
    await insertDelivery(env.app.handle.db, delivery('recent', 29), { prune: false })
    const worker = startStoreflow(['worker'], { STOREFLOW_DATA_DIR: env.config.dataDir, STOREFLOW_SECRET_KEY: 'test-secret-key' })
    try {
      await waitFor(
        'the old delivery to go',
        async () => !(await env.app.handle.db.selectFrom('webhook_deliveries').select('id').where('id', '=', 'old').executeTakeFirst()),
        30_000,
      )
      const left = await env.app.handle.db.selectFrom('webhook_deliveries').select('id').execute()
      expect(left.map((d) => d.id)).toEqual(['recent'])
    } finally {
      expect(await worker.stop()).toBe(0)
    }
  })
})
