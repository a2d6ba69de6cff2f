import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { buildServer } from './server.ts'

/**
 * Issue 7, defect 8: `/readyz` is public (load balancers call it without a key), so when the
 * database does not answer it says only that it is not ready; the reason goes to the log.
 */
describe.each(DIALECTS)('/readyz on %s', (dialect) => {
  let env: TestEnv | null = null
  let server: FastifyInstance | null = null
  afterEach(async () => {
    await server?.close()
    await env?.cleanup().catch(() => undefined)
  })

  it('answers { ready: true }, then 503 { ready: false } without internals when the database is gone, logging the cause', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk))
        done()
      },
    })
    env = await createTestEnv(dialect, { log: pino({ level: 'info' }, sink) })
    server = await buildServer(env.app)
    const ready = await server.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ ready: true })

    await env.app.handle.close()
    const down = await server.inject({ method: 'GET', url: '/readyz' })
    expect(down.statusCode).toBe(503)
    expect(down.json()).toEqual({ ready: false })
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; err?: { message?: string } }).find((l) => l.err?.message)
    expect(logged, 'the cause is logged').toBeDefined()
    // what the log holds is exactly what the public answer no longer shows
    expect(down.body).not.toContain(logged!.err!.message!)
  })
})
