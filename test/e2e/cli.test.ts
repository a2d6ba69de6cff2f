import { execFile, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

/** The real CLI in child processes, each test on its own data directory. */
const BIN = resolve(import.meta.dirname, '../../bin/storeflow.mjs')
const dirs: string[] = []

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-cli-'))
  dirs.push(dir)
  return dir
}

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** the parent's environment without anything that would point the CLI at another database */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.DATABASE_URL
  delete env.VITEST
  delete env.SMTP_URL
  return env
}

function cli(dir: string, args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Result> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...nodeArgs, BIN, ...args],
      {
        cwd: dir,
        env: { ...baseEnv(), STOREFLOW_DATA_DIR: dir, STOREFLOW_LOG_LEVEL: 'silent', STOREFLOW_SECRET_KEY: 'cli-test', ...env },
        timeout: 30_000,
      },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const WEEK_LATER = `
id: week-later
name: A week later
trigger: { event: order.paid }
steps:
  - wait: 7d
  - id: hello
    action: send_email
    with:
      category: transactional
      subject: 'Hi {{ customer.first_name }}, about order {{ trigger.data.number }}'
      html: '<p>Thanks for your order of {{ trigger.data.total_price | money }}.</p>'
`

const PAID = {
  id: 'evt-paid-1',
  type: 'order.paid',
  occurred_at: '2026-03-02T10:00:00Z',
  data: { id: 'o1', number: '1001', currency: 'USD', total_price: '42.50', customer: { id: 'c1', email: 'ann@example.com', first_name: 'Ann' } },
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe.concurrent('storeflow CLI', { timeout: 90_000 }, () => {
  it('migrate applies each migration once', async () => {
    const dir = dataDir()
    const r = await cli(dir, ['migrate'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('0002-users')
    const again = await cli(dir, ['migrate', '--json'])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).applied).toEqual([])
  })

  it('keys create --json prints exactly { id, key, scope, store }; list and revoke', async () => {
    const dir = dataDir()
    const r = await cli(dir, ['keys', 'create', '--json'])
    expect(r.code).toBe(0)
    const key = JSON.parse(r.stdout)
    expect(Object.keys(key).sort()).toEqual(['id', 'key', 'scope', 'store'])
    expect(key).toMatchObject({ scope: 'ingest', store: 'default' })
    expect(key.key).toMatch(/^sf_ingest_/)

    const listed = JSON.parse((await cli(dir, ['keys', 'list', '--json'])).stdout)
    expect(listed.map((k: { id: string }) => k.id)).toEqual([key.id])
    expect(JSON.stringify(listed)).not.toContain(key.key)
    expect((await cli(dir, ['keys', 'revoke', key.id])).code).toBe(0)

    const bad = await cli(dir, ['keys', 'create', '--store', 'nope', '--scope', 'admin'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe('error: store "nope" not found; create it with: storeflow stores create nope\n')
  })

  it('stores create and list', async () => {
    const dir = dataDir()
    expect((await cli(dir, ['stores', 'create', 'eu', '--name', 'EU shop', '--currency', 'EUR', '--timezone', 'Europe/Berlin'])).code).toBe(0)
    const list = JSON.parse((await cli(dir, ['stores', 'list', '--json'])).stdout)
    expect(list.map((s: { id: string }) => s.id)).toEqual(['default', 'eu'])
    expect(list[1]).toMatchObject({ name: 'EU shop', currency: 'EUR', timezone: 'Europe/Berlin' })
    // a command pointed at a store that does not exist says so, instead of an empty list
    const unknown = await cli(dir, ['--store', 'us', 'workflows', 'list'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe('error: store "us" not found; create it with: storeflow stores create us\n')
    expect((await cli(dir, ['--store', 'eu', 'workflows', 'list', '--json'])).code).toBe(0)
  })

  it('workflows import, activate, list --json, export; a bad file names line and field', async () => {
    const dir = dataDir()
    const file = write(dir, 'week-later.yaml', WEEK_LATER)
    const imported = await cli(dir, ['workflows', 'import', file])
    expect(imported.code).toBe(0)
    expect(imported.stdout).toContain('saved week-later v1 (inactive)')

    expect((await cli(dir, ['workflows', 'activate', 'week-later'])).code).toBe(0)
    const list = JSON.parse((await cli(dir, ['workflows', 'list', '--json'])).stdout)
    expect(list).toEqual([{ id: 'week-later', name: 'A week later', version: 1, active: true, trigger: { event: 'order.paid' } }])
    expect((await cli(dir, ['workflows', 'export', 'week-later'])).stdout).toBe(WEEK_LATER)

    const broken = write(dir, 'broken.yaml', 'id: broken\nname: Broken\ntrigger: { event: order.paid }\nsteps:\n  - action: send_mail\n')
    const bad = await cli(dir, ['workflows', 'import', broken])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('broken.yaml line 5 (steps[0].action): unknown action "send_mail"')
  })

  it('events send: accepted, duplicates, and each rejected event by line and field, exit 1', async () => {
    const dir = dataDir()
    const good = (id: string) => JSON.stringify({ id, type: 'customer.created', data: { id: `cust-${id}`, email: `${id}@example.com` } })
    const file = write(
      dir,
      'events.ndjson',
      [good('a1'), JSON.stringify({ id: 'a2', type: 'customer.created', data: { id: 'x', email: 'not-an-email' } }), '', good('a1'), good('a3')].join('\n'),
    )
    const r = await cli(dir, ['events', 'send', file])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('accepted 2, duplicates 1, rejected 1')
    expect(r.stderr).toContain('events.ndjson line 2: data.email: must be an email address')

    const array = write(dir, 'events.json', `[\n  ${good('b1')},\n  {"id": "b2", "type": "order.paid", "data": {"id": "o", "currency": "USD"}}\n]`)
    const r2 = await cli(dir, ['events', 'send', '--history', '--json', array])
    expect(r2.code).toBe(1)
    const report = JSON.parse(r2.stdout)
    expect(report.accepted).toBe(1)
    expect(report.rejected).toEqual([{ file: 'events.json', line: 3, field: 'data.total_price', message: expect.any(String) }])
  })

  it('simulate --json: a 7-day wait passes on the virtual clock and the message is rendered, nothing stored', async () => {
    const dir = dataDir()
    const wf = write(dir, 'week-later.yaml', WEEK_LATER)
    const ev = write(dir, 'paid.json', JSON.stringify(PAID))
    const r = await cli(dir, ['simulate', wf, '--event', ev, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(Object.keys(out)).toEqual(['steps', 'messages'])
    expect(out.steps).toEqual([
      { id: 's1', type: 'wait', status: 'completed', at: '2026-03-09T10:00:00.000Z' },
      { id: 'hello', type: 'send_email', status: 'completed', at: '2026-03-09T10:00:00.000Z' },
    ])
    expect(out.messages).toHaveLength(1)
    expect(out.messages[0]).toMatchObject({ to: 'ann@example.com', subject: 'Hi Ann, about order 1001' })
    expect(out.messages[0].html).toContain('Thanks for your order of $42.50.')

    // --at moves the virtual start; the simulation wrote nothing to the data directory
    const at = await cli(dir, ['simulate', wf, '--event', ev, '--at', '2026-01-01T00:00:00Z'])
    expect(at.code).toBe(0)
    expect(at.stdout).toMatch(/hello\s+send_email\s+completed\s+2026-01-08T00:00:00.000Z/)
    expect(existsSync(join(dir, 'storeflow.db'))).toBe(false)
  })

  it('templates list --json and install', async () => {
    const dir = dataDir()
    const r = await cli(dir, ['templates', 'list', '--json'])
    expect(r.code).toBe(0)
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>
    expect(list.length).toBeGreaterThanOrEqual(19)
    for (const t of list) expect(Object.keys(t)).toEqual(['name', 'title', 'description', 'trigger'])
    expect(list.find((t) => t.name === 'order-confirmation')).toMatchObject({ title: 'Order confirmation', trigger: { event: 'order.paid' } })

    const ok = await cli(dir, ['templates', 'install', 'order-confirmation'])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('installed order-confirmation v1 (inactive)')
    const withCode = await cli(dir, ['templates', 'install', 'abandoned-checkout'])
    expect(withCode.code).toBe(0)
    expect(withCode.stdout).toContain('installed abandoned-checkout v1 (inactive)')
    const purchasing = await cli(dir, ['templates', 'install', 'low-stock-purchase-order'])
    expect(purchasing.code, purchasing.stderr).toBe(0)
    // every template's actions exist now: each installs
    for (const t of list) {
      const installed = await cli(dir, ['templates', 'install', String(t.name)])
      expect(installed.code, `${String(t.name)}: ${installed.stderr}`).toBe(0)
    }
    const unknown = await cli(dir, ['templates', 'install', 'no-such-template'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no template named "no-such-template"')
  })

  it('users create: password from STOREFLOW_ADMIN_PASSWORD, stored hashed; a second time is refused; --help', async () => {
    const dir = dataDir()
    const r = await cli(dir, ['users', 'create', 'Admin@Example.com', '--json'], { STOREFLOW_ADMIN_PASSWORD: 'correct horse battery' })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ email: 'admin@example.com', role: 'admin' })
    const again = await cli(dir, ['users', 'create', 'admin@example.com'], { STOREFLOW_ADMIN_PASSWORD: 'correct horse battery' })
    expect(again.code).toBe(1)
    expect(again.stderr).toBe('error: user "admin@example.com" already exists\n')
    const list = await cli(dir, ['users', 'list', '--json'])
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ email: 'admin@example.com', role: 'admin' })])
    expect(JSON.stringify(JSON.parse(list.stdout))).not.toContain('scrypt')
    const deleted = await cli(dir, ['users', 'delete', 'ADMIN@example.com'])
    expect(deleted.code, deleted.stderr).toBe(0)
    expect((await cli(dir, ['users', 'list'])).stdout).toMatch(/^no users; create one with `storeflow users create EMAIL`/)
    const gone = await cli(dir, ['users', 'delete', 'admin@example.com'])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toBe('error: no user "admin@example.com"\n')
    const help = await cli(dir, ['simulate', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: storeflow simulate')
  })

  it('demo seeds a deterministic store and a second run adds nothing; start then only serves, and SIGTERM exits 0', async () => {
    const dir = dataDir()
    const env = { STOREFLOW_DEMO_END: '2026-03-01T00:00:00Z', STOREFLOW_ADMIN_EMAIL: 'owner@example.com', STOREFLOW_ADMIN_PASSWORD: 'demo-password-1' }
    const first = await cli(dir, ['demo', '--customers', '20', '--days', '30', '--json'], env)
    expect(first.code).toBe(0)
    const a = JSON.parse(first.stdout)
    expect(a.summary).toMatchObject({ products: 20, customers: 20, from: '2026-01-30T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' })
    expect(a.summary.orders).toBeGreaterThan(0)
    expect(a.events.accepted).toBeGreaterThan(100)
    expect(a.events.duplicates).toBe(0)
    expect(a.templates.installed.length).toBeGreaterThanOrEqual(8)
    expect(a.key).toMatchObject({ scope: 'ingest', store: 'default' })
    expect(a.admin).toEqual({ email: 'owner@example.com', created: true })

    const second = await cli(dir, ['demo', '--customers', '20', '--days', '30', '--json'], env)
    expect(second.code).toBe(0)
    const b = JSON.parse(second.stdout)
    expect(b.summary).toEqual(a.summary)
    expect(b.events).toEqual({ accepted: 0, duplicates: a.events.accepted })
    expect(b.templates.installed).toEqual([])
    expect(b.key).toBeNull()
    expect(b.admin).toEqual({ email: 'owner@example.com', created: false })

    const workflows = JSON.parse((await cli(dir, ['workflows', 'list', '--json'])).stdout)
    expect(workflows.length).toBe(a.templates.installed.length)
    expect(workflows.every((w: { active: boolean; version: number }) => !w.active && w.version === 1)).toBe(true)

    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd: dir,
      env: { ...baseEnv(), STOREFLOW_DATA_DIR: dir, STOREFLOW_LOG_LEVEL: 'silent', STOREFLOW_SECRET_KEY: 'cli-test', STOREFLOW_PORT: '0' },
    })
    let stdout = ''
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${stdout}`)), 30_000)
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const m = /listening on (http:\/\/\S+)/.exec(stdout)
        if (m) {
          clearTimeout(timer)
          resolveUrl(m[1]!)
        }
      })
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stdout}`)))
    })
    expect(stdout).not.toContain('first start')
    // the demo created the dashboard user from STOREFLOW_ADMIN_*: nothing more to say about logins
    expect(stdout).not.toContain('dashboard login')
    const health = await fetch(`${url}/healthz`)
    expect(health.status).toBe(200)
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})

describe('storeflow as shipped: compiled JavaScript', { timeout: 60_000 }, () => {
  const TRACE = resolve(import.meta.dirname, '../helpers/trace-imports.mjs')

  it('--help loads the command line alone: not the app, the database drivers, Fastify, zod or the mail stack', async () => {
    const dir = dataDir()
    const r = await cli(dir, ['--help'], {}, ['--import', TRACE])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: storeflow')
    const imported = [...r.stderr.matchAll(/^import: (.+)$/gm)].map((m) => m[1]!)
    // the trace sees the program itself, so an empty list below means nothing else was loaded
    expect(imported.some((url) => url.endsWith('/dist/cli/main.js'))).toBe(true)
    const heavy = /\/dist\/(main\.js|store\/|engine\/|http\/|services\/)|\/node_modules\/(kysely|better-sqlite3|pg|fastify|zod|liquidjs|nodemailer|pino)\//
    expect(imported.filter((url) => heavy.test(url))).toEqual([])
  })

  it('a checkout whose build never ran says to run `npm run build` in one line, exit 1', async () => {
    const dir = dataDir()
    mkdirSync(join(dir, 'bin'))
    copyFileSync(BIN, join(dir, 'bin', 'storeflow.mjs'))
    const r = await new Promise<Result>((done) =>
      execFile(process.execPath, [join(dir, 'bin', 'storeflow.mjs'), '--help'], { cwd: dir, env: baseEnv() }, (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      ),
    )
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^error: storeflow is not built .*run `npm run build`.*\n$/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
