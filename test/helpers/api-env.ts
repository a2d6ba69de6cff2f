import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach } from 'vitest'
import { buildServer } from '../../src/http/server.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import { createTestEnv, type DialectName, type TestEnv } from './dialects.ts'

export interface ApiEnv {
  env: TestEnv
  server: FastifyInstance
  /** an admin key of the `default` store */
  admin: string
  /** `{ authorization: 'Bearer <admin>' }` */
  headers: { authorization: string }
}

/**
 * A fresh database, the real HTTP server over it and an admin key of the default store, made
 * before each test of the calling describe block and closed after it. Read the fields inside tests.
 */
export function useApiEnv(dialect: DialectName): ApiEnv {
  const api = {} as ApiEnv
  beforeEach(async () => {
    api.env = await createTestEnv(dialect, { env: {} })
    api.server = await buildServer(api.env.app)
    api.admin = (await createKey(api.env.app.handle.db, 'default', 'admin', api.env.clock.now())).key
    api.headers = { authorization: `Bearer ${api.admin}` }
  })
  afterEach(async () => {
    await api.server.close()
    await api.env.cleanup()
  })
  return api
}
