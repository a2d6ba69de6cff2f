import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildServer } from '../../src/http/server.ts'
import { createKey } from '../../src/store/stores.repo.ts'
import { DIALECTS, createTestEnv, type TestEnv } from '../helpers/dialects.ts'

/**
 * A store's templates run inside the one process every store shares, so they get no files and
 * bounded time and memory. Found by an attacker's review: `{% render 'data/secret.key' %}` in a
 * log step printed the installation's master key (and `data/storeflow.db`, every store's data)
 * into the run's timeline, and a nested loop froze the API and the worker for every store.
 */
describe.each(DIALECTS)('templates are sandboxed on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let admin: string
  const headers = () => ({ authorization: `Bearer ${admin}` })

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: {} })
    // a file a template must never reach, where the process runs and where the data lives
    writeFileSync(join(process.cwd(), 'template-sandbox-probe.txt'), 'PROBE-SECRET-IN-CWD')
    writeFileSync(join(env.config.dataDir, 'probe.txt'), 'PROBE-SECRET-IN-DATA')
    server = await buildServer(env.app)
    admin = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
    const { rmSync } = await import('node:fs')
    rmSync(join(process.cwd(), 'template-sandbox-probe.txt'), { force: true })
  })

  const workflow = (message: string) => ({ id: 'probe', name: 'probe', trigger: { event: 'customer.created' }, steps: [{ action: 'log', with: { message } }] })

  it('render, include and layout are refused when a workflow or a message template is saved, naming the tag', async () => {
    for (const tag of [
      `{% render 'template-sandbox-probe.txt' %}`,
      `{% include 'template-sandbox-probe.txt' %}`,
      `{% layout 'template-sandbox-probe.txt' %}x`,
      `{% render '${join(env.config.dataDir, 'probe.txt')}' %}`,
    ]) {
      const saved = await server.inject({ method: 'POST', url: '/api/v1/workflows', headers: headers(), payload: workflow(`leak ${tag}`) })
      expect(saved.statusCode, `${tag}: ${saved.body}`).toBe(400)
      expect(saved.json().error.message, tag).toMatch(/render|include|layout/)
      const template = await server.inject({
        method: 'PUT',
        url: '/api/v1/message-templates/leak',
        headers: headers(),
        payload: { subject: 'x', html: `<p>${tag}</p>` },
      })
      expect(template.statusCode, `${tag}: ${template.body}`).toBe(400)
    }
  })

  it('a template that would loop for minutes fails its step and the server keeps answering', async () => {
    const saved = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: headers(),
      payload: { ...workflow('{% for i in (1..6000) %}{% for j in (1..6000) %}{% endfor %}{% endfor %}'), active: true },
    })
    expect(saved.statusCode, saved.body).toBe(201)
    await server.inject({ method: 'POST', url: '/api/v1/workflows/probe/activate', headers: headers() })
    const sent = await server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: headers(),
      payload: { id: 'e-1', type: 'customer.created', data: { id: 'c-1', email: 'ada@example.com', accepts_marketing: false } },
    })
    expect(sent.statusCode, sent.body).toBe(202)
    await env.app.engine.drain()
    const runs = (await server.inject({ method: 'GET', url: '/api/v1/runs?workflow=probe', headers: headers() })).json().items as Array<{
      id: string
      status: string
    }>
    expect(runs).toHaveLength(1)
    const run = (await server.inject({ method: 'GET', url: `/api/v1/runs/${runs[0]!.id}`, headers: headers() })).json()
    expect(run.status).toBe('failed')
    expect(JSON.stringify(run.steps)).toMatch(/limit/i)
    expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })

  it('a template that would build a string of hundreds of megabytes fails its step', async () => {
    const doubling = `{% assign s = "xxxxxxxxxxxxxxxx" %}${'{% assign s = s | append: s %}'.repeat(22)}{{ s | size }}`
    const saved = await server.inject({ method: 'POST', url: '/api/v1/workflows', headers: headers(), payload: workflow(doubling) })
    expect(saved.statusCode, saved.body).toBe(201)
    await server.inject({ method: 'POST', url: '/api/v1/workflows/probe/activate', headers: headers() })
    await server.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: headers(),
      payload: { id: 'e-2', type: 'customer.created', data: { id: 'c-2', email: 'bob@example.com', accepts_marketing: false } },
    })
    await env.app.engine.drain()
    const runs = (await server.inject({ method: 'GET', url: '/api/v1/runs?workflow=probe', headers: headers() })).json().items as Array<{
      id: string
      status: string
    }>
    const run = (await server.inject({ method: 'GET', url: `/api/v1/runs/${runs[0]!.id}`, headers: headers() })).json()
    expect(run.status).toBe('failed')
    expect(JSON.stringify(run.steps)).toMatch(/limit/i)
  })
})
