import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConnector } from '../../src/store/connectors.repo.ts'
import { startBigCommerceApi, type BigCommerceApiServer } from '../helpers/bigcommerce-api.ts'
import { dumpDiff, leaksIn, uniqueStrings } from '../helpers/two-stores.ts'
import { B_ONLY, EMAIL, NAME, SHARED_EVENTS, SHOP, WELCOME, apiView, db, dump, seed, teardown, type World } from '../helpers/two-stores-seed.ts'

/**
 * Two stores everywhere, for the command line: every `storeflow` command that reads or
 * writes a store's data, run as a real process with `--store a` on a SQLite data directory that
 * also holds store b (seeded alike: the same customer 42, email, order, event ids, workflows,
 * connectors and deliveries). Naming B's objects fails with a one-line reason, lists show A's
 * only, no output holds a string only B has, and B's rows are byte-identical after each command.
 */

const BIN = resolve(import.meta.dirname, '../../bin/storeflow.mjs')
const COMMANDS_PROBE = resolve(import.meta.dirname, '../helpers/cli-commands.mjs')

interface Result {
  code: number
  stdout: string
  stderr: string
}

function run(file: string, args: string[], dir: string): Promise<Result> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STOREFLOW_DATA_DIR: dir,
    STOREFLOW_LOG_LEVEL: 'silent',
    STOREFLOW_SECRET_KEY: 'test-secret-key',
    STOREFLOW_ALLOW_PRIVATE_HTTP: '1',
  }
  // nothing may point the CLI at another database or mail server
  delete env.DATABASE_URL
  delete env.SMTP_URL
  delete env.VITEST
  return new Promise((done) => {
    execFile(process.execPath, [file, ...args], { cwd: dir, env, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

/** Commands that hold no store's data, with the reason; every other command has cases below. */
const STORE_FREE: Record<string, string> = {
  start: 'runs demo then serve: the HTTP matrix (two-stores.test.ts) covers what serve answers',
  serve: 'the HTTP API, covered route by route in two-stores.test.ts',
  worker: 'runs due runs of every store; the engine reads each run with its own store',
  migrate: "the schema, not a store's data",
  'stores create': "creates a store; stores are the installation's",
  'stores list': "lists the installation's stores (ids, names), by design for the operator",
  'users create': 'dashboard users belong to the installation, not to one store',
  'users list': 'dashboard users belong to the installation, not to one store',
  'users delete': 'dashboard users belong to the installation, not to one store',
  'templates list': 'the built-in library, read from files',
  doctor:
    "checks the installation (database, secret key, SMTP, every store's connectors by id and host) for its operator, who holds the secret key; it prints no store's content and no secret",
}

interface CliCase {
  name: string
  /** arguments after `--store a` (may prepare A's side first, e.g. add a connector to remove) */
  args: (w: World, dir: string) => string[] | Promise<string[]>
  expect: (r: Result, w: World) => void | Promise<void>
}

const json = <T>(r: Result): T => {
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as T
}
const fails = (pattern: RegExp) => (r: Result) => {
  expect(r.code, r.stdout).toBe(1)
  expect(r.stderr).toMatch(pattern)
}
const file = (dir: string, name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const keyId = async (w: World, store: string, scope: string) =>
  (
    await db(w)
      .selectFrom('api_keys')
      .select('id')
      .where('store_id', '=', store)
      .where('scope', '=', scope)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .executeTakeFirstOrThrow()
  ).id

/** Ordered: erasure last, since it writes the most rows of both stores. */
const CLI_MATRIX: Record<string, CliCase[]> = {
  'workflows list': [
    {
      name: "lists A's",
      args: () => ['workflows', 'list', '--json'],
      expect: (r) => {
        const list = json<Array<{ id: string; name: string }>>(r)
        expect(list.map((x) => x.id)).not.toContain('b-only')
        expect(list.find((x) => x.id === 'welcome')?.name).toBe('Welcome A')
      },
    },
  ],
  'workflows export': [
    {
      name: 'shared id',
      args: () => ['workflows', 'export', 'welcome'],
      expect: (r) => {
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toContain('name: Welcome A')
      },
    },
    { name: "B's id", args: () => ['workflows', 'export', 'b-only', '--format', 'json'], expect: fails(/^error: workflow "b-only" not found/) },
  ],
  'workflows import': [
    {
      name: "shared id: A's next version",
      args: (_w, dir) => ['workflows', 'import', file(dir, 'welcome.yaml', WELCOME('a', ' (cli)')), '--json'],
      expect: (r) => expect(json(r)).toEqual([expect.objectContaining({ id: 'welcome', name: 'Welcome A (cli)', version: 2, created: true })]),
    },
    {
      name: "an id only B has: A's own version 1",
      args: (_w, dir) => ['workflows', 'import', file(dir, 'b-only-post.yaml', B_ONLY('b-only-post', 7)), '--json'],
      expect: (r) => expect(json(r)).toEqual([expect.objectContaining({ id: 'b-only-post', version: 1, created: true })]),
    },
  ],
  'workflows deactivate': [
    { name: "B's id", args: () => ['workflows', 'deactivate', 'b-only'], expect: fails(/^error: workflow "b-only" not found/) },
    {
      name: 'shared id',
      args: () => ['workflows', 'deactivate', 'retired', '--json'],
      expect: (r) => expect(json(r)).toMatchObject({ name: 'Retired A', active: false }),
    },
  ],
  'workflows activate': [
    { name: "B's id", args: () => ['workflows', 'activate', 'b-only'], expect: fails(/^error: workflow "b-only" not found/) },
    {
      name: 'shared id',
      args: () => ['workflows', 'activate', 'retired', '--json'],
      expect: (r) => expect(json(r)).toMatchObject({ name: 'Retired A', active: true }),
    },
  ],
  'templates install': [
    {
      name: 'into A',
      args: () => ['templates', 'install', 'order-confirmation', '--json'],
      expect: (r) => expect(json(r)).toMatchObject({ id: 'order-confirmation', created: true }),
    },
  ],
  simulate: [
    {
      name: "B's workflow id",
      args: (_w, dir) => ['simulate', 'b-only', '--event', file(dir, 'sim-b.json', JSON.stringify({ id: 'sim-b', type: 'raw.b.only', data: {} }))],
      expect: fails(/^error: workflow "b-only" not found/),
    },
    {
      name: "A's workflow by the shared id",
      args: (_w, dir) => ['simulate', 'slow', '--event', file(dir, 'sim.json', JSON.stringify(SHARED_EVENTS('a').find((e) => e.id === 'evt-order'))), '--json'],
      expect: (r) => expect(json<{ steps: Array<{ type: string }> }>(r).steps.map((s) => s.type)).toEqual(['wait', 'log']),
    },
    {
      name: "A's workflow renders A's own stored template",
      args: (_w, dir) => [
        'simulate',
        'welcome',
        '--event',
        file(dir, 'sim.json', JSON.stringify(SHARED_EVENTS('a').find((e) => e.id === 'evt-order'))),
        '--json',
      ],
      expect: (r) => expect(json<{ messages: Array<{ subject: string }> }>(r).messages.map((m) => m.subject)).toEqual([`A promo: hello from ${SHOP.a}`]),
    },
  ],
  backtest: [
    {
      name: "B's workflow id",
      args: () => ['backtest', 'b-only', '--since', '3650d', '--json'],
      expect: fails(/not found/),
    },
    {
      name: "A's workflow by the shared id, over A's events only",
      args: () => ['backtest', 'slow', '--since', '3650d', '--json'],
      expect: (r) => expect(json<{ workflow_id: string; runs: number }>(r)).toMatchObject({ workflow_id: 'slow' }),
    },
  ],
  'events send': [
    {
      name: 'an event id only B has is a new event of A',
      args: (_w, dir) => [
        'events',
        'send',
        file(
          dir,
          'b-only-id.json',
          JSON.stringify({ id: 'evt-b-only-ingest', type: 'customer.updated', occurred_at: '2026-03-02T09:40:00Z', data: { id: '42', email: EMAIL } }),
        ),
        '--json',
      ],
      expect: (r) => expect(json(r)).toEqual({ accepted: 1, duplicates: 0, rejected: [] }),
    },
    {
      name: 'an event naming store b is refused, naming the field',
      args: (_w, dir) => [
        'events',
        'send',
        file(dir, 'for-b.ndjson', `${JSON.stringify({ ...SHARED_EVENTS('a')[0], id: 'evt-cli-for-b', store: 'b' })}\n`),
        '--json',
      ],
      expect: (r) => {
        expect(r.code).toBe(1)
        expect(JSON.parse(r.stdout)).toMatchObject({ accepted: 0, rejected: [expect.objectContaining({ field: 'store' })] })
      },
    },
  ],
  'keys create': [
    { name: 'for A', args: () => ['keys', 'create', '--scope', 'read', '--json'], expect: (r) => expect(json(r)).toMatchObject({ store: 'a', scope: 'read' }) },
  ],
  'keys list': [
    {
      name: "A's keys",
      args: () => ['keys', 'list', '--json'],
      expect: async (r, w) => {
        const mine = (await db(w).selectFrom('api_keys').select('id').where('store_id', '=', 'a').execute()).map((k) => k.id).sort()
        expect(
          json<Array<{ id: string }>>(r)
            .map((k) => k.id)
            .sort(),
        ).toEqual(mine)
      },
    },
  ],
  'keys revoke': [
    { name: "B's key", args: async (w) => ['keys', 'revoke', await keyId(w, 'b', 'admin')], expect: fails(/^error: key "key_\w+" not found in store "a"/) },
    { name: "A's key", args: async (w) => ['keys', 'revoke', await keyId(w, 'a', 'ingest')], expect: (r) => expect(r.code, r.stderr).toBe(0) },
  ],
  'connectors add': [
    {
      name: 'the platform B has too',
      args: () => ['connectors', 'add', '--platform', 'shopify', '--secret', 'shpss_cli-a', '--shop-domain', 'jsmith.myshopify.com', '--json'],
      expect: (r) => expect(json(r)).toMatchObject({ store: 'a', platform: 'shopify' }),
    },
  ],
  'connectors list': [
    {
      name: "A's",
      args: () => ['connectors', 'list', '--json'],
      expect: (r, w) => {
        const list = json<Array<{ id: string; store: string }>>(r)
        expect(list.map((c) => c.id)).toEqual(expect.arrayContaining(Object.values(w.a.connectors)))
        expect(list.every((c) => c.store === 'a')).toBe(true)
      },
    },
  ],
  'connectors remove': [
    {
      name: "B's connector",
      args: (w) => ['connectors', 'remove', w.b.connectors.shopify],
      expect: fails(/^error: connector "con_\w+" not found in store "a"/),
    },
    {
      name: 'a connector of A',
      args: async (w) => [
        'connectors',
        'remove',
        (await createConnector(db(w), w.env.config.secretKey, 'a', { platform: 'woocommerce', secrets: ['woo-a-spare'] }, new Date())).id,
      ],
      expect: (r) => expect(r.code, r.stderr).toBe(0),
    },
  ],
  'deliveries list': [
    {
      name: "A's",
      args: () => ['deliveries', 'list', '--json'],
      expect: (r, w) => expect(json<Array<{ id: string }>>(r).map((d) => d.id)).toContain(w.a.delivery),
    },
    {
      name: "by B's connector",
      args: (w) => ['deliveries', 'list', '--connector', w.b.connectors.shopify, '--json'],
      expect: (r) => expect(json(r)).toEqual([]),
    },
  ],
  'deliveries replay': [
    { name: "B's delivery", args: (w) => ['deliveries', 'replay', w.b.delivery], expect: fails(/^error: delivery "dlv_\w+" not found in store "a"/) },
    {
      name: "A's delivery, whose events B holds under the same ids",
      args: (w) => ['deliveries', 'replay', w.a.delivery, '--json'],
      expect: (r) => expect(json(r)).toMatchObject({ status: 'duplicate', duplicate: true }),
    },
  ],
  'customers export': [
    {
      name: 'shared id',
      args: () => ['customers', 'export', '42'],
      expect: (r) => expect(json(r)).toMatchObject({ store: 'a', customer: { first_name: NAME.a } }),
    },
    { name: "B's customer key", args: (w) => ['customers', 'export', w.b.customerKey], expect: fails(/^error: customer "cus_\w+" not found in store "a"/) },
  ],
  demo: [
    {
      name: 'seeds A',
      args: () => ['demo', '--customers', '2', '--days', '2', '--json'],
      expect: (r) => expect(json<{ events: { accepted: number } }>(r).events.accepted).toBeGreaterThan(0),
    },
  ],
  'customers erase': [
    { name: "B's customer key", args: (w) => ['customers', 'erase', w.b.customerKey], expect: fails(/^error: customer "cus_\w+" not found in store "a"/) },
    {
      name: "A's customer 42 (B has a customer 42 with the same email)",
      args: () => ['customers', 'erase', '42', '--json'],
      expect: (r) => expect(json(r)).toMatchObject({ customers: 1 }),
    },
  ],
}

describe('two stores from the command line (SQLite data directory)', { timeout: 600_000 }, () => {
  let bc: BigCommerceApiServer
  let w: World
  let dir: string
  beforeAll(async () => {
    bc = await startBigCommerceApi()
    w = await seed('sqlite', bc.apiUrl)
    dir = w.env.config.dataDir
  }, 120_000)
  afterAll(async () => {
    await teardown(w)
    await bc.close()
  })

  it("every command is either in the matrix or holds no store's data", async () => {
    const probe = await run(COMMANDS_PROBE, [], dir)
    expect(probe.code, probe.stderr).toBe(0)
    const commands = (JSON.parse(probe.stdout) as string[]).sort()
    expect(commands.length).toBeGreaterThan(20)
    expect(commands, 'a command without a two-store case: add it to CLI_MATRIX (or STORE_FREE, with the reason) in test/e2e/two-stores-cli.test.ts').toEqual(
      [...Object.keys(CLI_MATRIX), ...Object.keys(STORE_FREE)].sort(),
    )
  })

  for (const [command, cases] of Object.entries(CLI_MATRIX)) {
    it(command, async () => {
      for (const kase of cases) {
        const label = `storeflow --store a ${command} — ${kase.name}`
        const beforeB = await dump(w, 'b')
        const viewB = await apiView(w)
        const args = await kase.args(w, dir)
        const r = await run(BIN, ['--store', 'a', ...args], dir)
        const unique = uniqueStrings(beforeB, await dump(w, 'a'))
        const leaks = leaksIn(`${r.stdout}\n${r.stderr}`, unique, args.join(' '))
        expect(leaks.length, `${label}: the output holds B's data: ${leaks.join(', ')}`).toBe(0)
        const diff = dumpDiff(beforeB, await dump(w, 'b'))
        expect(diff.length, `${label}: B's rows changed (${diff.length} rows gone or added):\n${diff.slice(0, 12).join('\n')}`).toBe(0)
        const after = await apiView(w)
        expect(
          Object.keys(viewB).filter((url) => JSON.stringify(after[url]) !== JSON.stringify(viewB[url])),
          `${label}: B's API view changed`,
        ).toEqual([])
        await kase.expect(r, w)
      }
    })
  }
})
