import { userInfo } from 'node:os'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer } from '../../src/http/server.ts'
import { createKey, createStore } from '../../src/store/stores.repo.ts'
import { cliEnvFor, runCli } from '../helpers/cli-run.ts'
import { createTestEnv, DIALECTS, type TestEnv } from '../helpers/dialects.ts'

/**
 * The audit log, seen through GET /api/v1/audit-log as an operator would: who (which API key, or
 * which OS user at the command line) changed which workflow, key, connector or setting, and when.
 * Two stores: each sees only its own entries. Secrets never appear in an entry.
 */

interface Entry {
  id: string
  store: string
  actor: string
  action: string
  target_id: string
  details: Record<string, unknown>
  at: string
}

const WORKFLOW = `id: audit-welcome
name: Audit welcome
trigger: { event: customer.created }
steps:
  - action: log
    with: { message: hi }
`

const WEBHOOK_SECRET = 'whsec-audit-0123456789-never'
const ACCESS_TOKEN = 'tok-audit-0123456789-never'

describe.each(DIALECTS)('audit log (%s)', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  const keys = { a: '', b: '' }
  const keyIds = { a: '', b: '' }
  beforeAll(async () => {
    env = await createTestEnv(dialect)
    server = await buildServer(env.app)
    const db = env.app.handle.db
    for (const s of ['a', 'b'] as const) {
      await createStore(db, { id: s, name: `Shop ${s}` }, env.clock.now())
      const k = await createKey(db, s, 'admin', env.clock.now())
      keys[s] = k.key
      keyIds[s] = k.id
    }
  })
  afterAll(async () => {
    await server.close()
    await env.cleanup()
  })

  const api = (s: 'a' | 'b', method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    server.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${keys[s]}`,
        ...(typeof payload === 'string' ? { 'content-type': 'application/yaml' } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as string }),
    })

  const log = async (s: 'a' | 'b', query = ''): Promise<Entry[]> => {
    const res = await api(s, 'GET', `/api/v1/audit-log?limit=500${query}`)
    expect(res.statusCode, res.body).toBe(200)
    return (res.json() as { items: Entry[] }).items
  }

  it("A's changes through the API and the CLI are logged with their actor; B sees none of them; no secret is in any entry", async () => {
    const before = await log('b')

    // workflow: saved (a new version), saved unchanged (no entry), activated, deactivated
    expect((await api('a', 'POST', '/api/v1/workflows', WORKFLOW)).statusCode).toBe(201)
    expect((await api('a', 'POST', '/api/v1/workflows', WORKFLOW)).statusCode).toBe(200)
    expect((await api('a', 'POST', '/api/v1/workflows/audit-welcome/activate')).statusCode).toBe(200)
    expect((await api('a', 'POST', '/api/v1/workflows/audit-welcome/deactivate')).statusCode).toBe(200)

    // connector: added, then removed
    const added = await api('a', 'POST', '/api/v1/connectors', {
      platform: 'bigcommerce',
      secrets: [WEBHOOK_SECRET],
      api_url: 'https://api.bigcommerce.com/stores/abc123',
      access_token: ACCESS_TOKEN,
    })
    expect(added.statusCode, added.body).toBe(201)
    const connectorId = (added.json() as { id: string }).id
    expect((await api('a', 'DELETE', `/api/v1/connectors/${connectorId}`)).statusCode).toBe(204)

    // settings
    expect((await api('a', 'PUT', '/api/v1/settings', { store_name: 'Shop A renamed' })).statusCode).toBe(200)

    // keys, at the command line: created and revoked by the OS user running it
    const cli = await cliEnvFor(env, dialect)
    const created = await runCli(['--store', 'a', 'keys', 'create', '--scope', 'read', '--json'], cli)
    expect(created.code, created.stderr).toBe(0)
    const newKey = JSON.parse(created.stdout) as { id: string; key: string }
    const revoked = await runCli(['--store', 'a', 'keys', 'revoke', newKey.id], cli)
    expect(revoked.code, revoked.stderr).toBe(0)

    const entries = await log('a')
    const apiActor = `key:${keyIds.a}`
    const cliActor = `cli:${userInfo().username}`
    const seen = entries.map((e) => [e.action, e.target_id, e.actor])
    expect(seen).toEqual(
      expect.arrayContaining([
        ['workflow.saved', 'audit-welcome', apiActor],
        ['workflow.activated', 'audit-welcome', apiActor],
        ['workflow.deactivated', 'audit-welcome', apiActor],
        ['connector.added', connectorId, apiActor],
        ['connector.removed', connectorId, apiActor],
        ['settings.changed', '', apiActor],
        ['key.created', newKey.id, cliActor],
        ['key.revoked', newKey.id, cliActor],
      ]),
    )
    // the unchanged save made no version and no entry
    expect(entries.filter((e) => e.action === 'workflow.saved')).toHaveLength(1)
    expect(entries.find((e) => e.action === 'workflow.saved')!.details).toMatchObject({ version: 1 })
    expect(entries.find((e) => e.action === 'connector.added')!.details).toMatchObject({ platform: 'bigcommerce', access_token_set: true })
    expect(entries.find((e) => e.action === 'key.created')!.details).toEqual({ scope: 'read' })
    expect(entries.every((e) => e.store === 'a')).toBe(true)
    for (const e of entries) expect(Date.parse(e.at)).not.toBeNaN()

    const text = JSON.stringify(entries)
    for (const secret of [WEBHOOK_SECRET, ACCESS_TOKEN, newKey.key, keys.a]) expect(text).not.toContain(secret)

    // B: nothing of A's, by list or by A's ids
    expect(await log('b')).toEqual(before)
    expect(await log('b', `&target=${connectorId}`)).toEqual([])
    expect(await log('b', '&target=audit-welcome')).toEqual([])
  })

  it('filters by action and target, pages with the cursor, and refuses an unknown action naming the field', async () => {
    const byAction = await log('a', '&action=workflow.activated')
    expect(byAction.map((e) => e.action)).toEqual(['workflow.activated'])
    const byTarget = await log('a', '&target=audit-welcome')
    expect(new Set(byTarget.map((e) => e.action))).toEqual(new Set(['workflow.saved', 'workflow.activated', 'workflow.deactivated']))

    const all = await log('a')
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await api('a', 'GET', `/api/v1/audit-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      const page = res.json() as { items: Entry[]; next_cursor: string | null }
      expect(page.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.items.map((e) => e.id))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toEqual(all.map((e) => e.id))

    const bad = await api('a', 'GET', '/api/v1/audit-log?action=nope')
    expect(bad.statusCode).toBe(400)
    expect(bad.json().error.details.field).toBe('action')
    const badLimit = await api('a', 'GET', '/api/v1/audit-log?limit=0')
    expect(badLimit.statusCode).toBe(400)

    // a read key may not read it
    const read = await createKey(env.app.handle.db, 'a', 'read', env.clock.now())
    const forbidden = await server.inject({ method: 'GET', url: '/api/v1/audit-log', headers: { authorization: `Bearer ${read.key}` } })
    expect(forbidden.statusCode).toBe(403)
  })
})
