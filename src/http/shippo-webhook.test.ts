import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { createKey } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

/**
 * Shippo authenticates its tracking webhook only by the token in the URL (?token=), so the URL is
 * a secret: with request logging on (STOREFLOW_LOG_REQUESTS=1) the log line of each delivery must
 * not carry it.
 */
describe.each(DIALECTS)('the Shippo webhook token on %s', (dialect) => {
  let env: TestEnv | undefined
  afterEach(async () => {
    await env?.cleanup()
    env = undefined
  })

  it('is not written to the request log, whatever the answer', async () => {
    const lines: string[] = []
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) })
    env = await createTestEnv(dialect, { log })
    const before = process.env.STOREFLOW_LOG_REQUESTS
    process.env.STOREFLOW_LOG_REQUESTS = '1'
    const server = await buildServer(env.app).finally(() => {
      if (before === undefined) delete process.env.STOREFLOW_LOG_REQUESTS
      else process.env.STOREFLOW_LOG_REQUESTS = before
    })
    try {
      const admin = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
      const secret = 'whtok-s3cret-value'
      const put = await server.inject({
        method: 'PUT',
        url: '/api/v1/integrations/shippo',
        headers: { authorization: `Bearer ${admin}` },
        payload: { credentials: { api_token: 'shippo_test', webhook_token: secret } },
      })
      expect(put.statusCode, put.body).toBe(200)
      const delivery = { event: 'track_updated', data: { tracking_number: '1Z1', tracking_status: { status: 'TRANSIT' } } }
      expect((await server.inject({ method: 'POST', url: `/webhooks/shippo/default?token=${secret}`, payload: delivery })).statusCode).toBe(200)
      expect((await server.inject({ method: 'POST', url: `/webhooks/shippo/default?token=${secret}x`, payload: delivery })).statusCode).toBe(401)
      const requests = lines.filter((l) => l.includes('/webhooks/shippo/default'))
      // the deliveries were logged (method and path), the token was not
      expect(requests.length).toBeGreaterThanOrEqual(2)
      for (const line of lines) expect(line).not.toContain(secret)
    } finally {
      await server.close()
    }
  })
})
