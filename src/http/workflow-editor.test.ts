import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKey } from '../store/stores.repo.ts'
import { createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { buildServer } from './server.ts'

/**
 * The workflow editor's checks: a file checked as a save would check it (every problem with its
 * line, nothing stored), one CEL or Liquid field compiled, and the action catalog with schemas.
 */

const FILE = `id: editor-check
name: Editor check
trigger: { event: order.paid }
steps:
  - wait: 2h
  - if: 'trigger.data.total_price > 10'
    then:
      - action: send_email
        with: { subject: 'Hi {{ customer.first_name }}', html: '<p>x</p>', category: marketing }
`

describe('workflow editor routes', () => {
  let env: TestEnv
  let server: FastifyInstance
  let read: { authorization: string }

  beforeAll(async () => {
    env = await createTestEnv('sqlite')
    server = await buildServer(env.app)
    read = { authorization: `Bearer ${(await createKey(env.app.handle.db, 'default', 'read', env.clock.now())).key}` }
  })
  afterAll(async () => {
    await server.close()
    await env.cleanup()
  })

  const post = (url: string, payload: unknown) => server.inject({ method: 'POST', url, headers: read, payload: payload as object })

  it('a valid file comes back checked, and nothing is saved', async () => {
    const res = await post('/api/v1/workflows/validate', { source: FILE })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json()
    expect(body.ok).toBe(true)
    expect(body.errors).toEqual([])
    expect(body.definition.id).toBe('editor-check')
    expect(body.definition.steps[0]).toMatchObject({ wait: '2h' })
    const list = await server.inject({ method: 'GET', url: '/api/v1/workflows', headers: read })
    expect(list.json().items.map((w: { id: string }) => w.id)).not.toContain('editor-check')
  })

  it.each([
    ['a wait that is no duration', FILE.replace('wait: 2h', 'wait: soon'), 5, 'steps[0].wait'],
    ['a condition that does not compile', FILE.replace("'trigger.data.total_price > 10'", "'trigger.data.total_price >'"), 6, 'steps[1].if'],
  ])('%s: the problem names its line and path, and the file as far as it reads comes back', async (_name, bad, line, path) => {
    const res = await post('/api/v1/workflows/validate', { source: bad })
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json() as { ok: boolean; errors: Array<{ path: string; line: number | null; message: string }>; definition: { id: string } }
    expect(body.ok).toBe(false)
    expect(body.errors.map((e) => e.line)).toContain(line)
    expect(body.errors.map((e) => e.path).join(' ')).toContain(path)
    expect(body.definition.id).toBe('editor-check')
  })

  it('YAML that does not parse: the line, and no definition', async () => {
    const res = await post('/api/v1/workflows/validate', { source: 'id: x\nsteps:\n  - wait: [1h\n' })
    const body = res.json()
    expect(body.ok).toBe(false)
    expect(body.errors[0].line).toBeGreaterThan(0)
    expect(body.definition).toBeNull()
  })

  it('CEL and Liquid fields compile or say why', async () => {
    expect((await post('/api/v1/expressions/check', { kind: 'cel', source: 'customer.accepts_marketing && cart.total_price > 5' })).json()).toEqual({
      ok: true,
      error: null,
    })
    const cel = (await post('/api/v1/expressions/check', { kind: 'cel', source: 'cart.total_price >' })).json()
    expect(cel.ok).toBe(false)
    expect(cel.error).toMatch(/\S/)
    expect((await post('/api/v1/expressions/check', { kind: 'liquid', source: 'Hi {{ customer.first_name }}' })).json().ok).toBe(true)
    const liquid = (await post('/api/v1/expressions/check', { kind: 'liquid', source: '{% if x %}open' })).json()
    expect(liquid.ok).toBe(false)
    expect(liquid.error).toMatch(/if/)
  })

  it.each([
    ['/api/v1/workflows/validate', {}, 'source'],
    ['/api/v1/workflows/validate', { source: 42 }, 'source'],
    ['/api/v1/workflows/validate', { source: 'x', extra: 1 }, 'extra'],
    ['/api/v1/expressions/check', { kind: 'python', source: 'x' }, 'kind'],
    ['/api/v1/expressions/check', { kind: 'cel' }, 'source'],
    ['/api/v1/expressions/check', [], 'body'],
  ])('%s refuses %j naming %s', async (url, payload, field) => {
    const res = await post(url, payload)
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().error.details.field).toBe(field)
    expect(res.json().error.message).toContain(field)
  })

  it('the action catalog describes each action with the JSON Schema of its input', async () => {
    const res = await server.inject({ method: 'GET', url: '/api/v1/actions', headers: read })
    expect(res.statusCode, res.body).toBe(200)
    const items = res.json().items as Array<{ type: string; input: { type?: string; properties?: Record<string, { type?: string }> } }>
    const email = items.find((a) => a.type === 'send_email')
    expect(email?.input.properties?.['subject']).toBeDefined()
    const wait = items.find((a) => a.type === 'http_request')
    expect(wait?.input.properties?.['url']).toBeDefined()
  })

  it('no key: 401', async () => {
    const res = await server.inject({ method: 'POST', url: '/api/v1/workflows/validate', payload: { source: FILE } })
    expect(res.statusCode).toBe(401)
  })
})
