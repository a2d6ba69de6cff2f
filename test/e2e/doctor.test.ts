import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliEnvFor, runCli } from '../helpers/cli-run.ts'
import { createTestEnv, pgAvailable } from '../helpers/dialects.ts'
import { startHttpReceiver, type HttpReceiver } from '../helpers/http-receiver.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

/**
 * `storeflow doctor` as an operator runs it: a real process against a real data directory, a
 * real SMTP server and a real HTTP server standing in for a shop's API. Exit 0 when no check
 * fails, 1 otherwise; `--json` is `{ ok, checks: [{ name, status, reason, fix }] }`; no secret
 * ever appears in what it prints.
 */

interface Check {
  name: string
  status: 'ok' | 'warn' | 'fail'
  reason: string
  fix: string | null
}

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-doctor-'))
  dirs.push(dir)
  return dir
}

let smtp: SmtpSink
let shopApi: HttpReceiver
beforeAll(async () => {
  smtp = await startSmtpSink()
  shopApi = await startHttpReceiver()
})
afterAll(async () => {
  await smtp.close()
  await shopApi.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A port nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function doctor(env: Record<string, string>): Promise<{ code: number; checks: Check[]; ok: boolean; stdout: string; stderr: string }> {
  const res = await runCli(['doctor', '--json'], env)
  const parsed = JSON.parse(res.stdout) as { ok: boolean; checks: Check[] }
  return { code: res.code, checks: parsed.checks, ok: parsed.ok, stdout: res.stdout, stderr: res.stderr }
}

const check = (checks: Check[], name: string): Check => {
  const found = checks.find((c) => c.name === name)
  expect(found, `no "${name}" check in ${JSON.stringify(checks.map((c) => c.name))}`).toBeDefined()
  return found!
}

describe('storeflow doctor', () => {
  it('a fresh data directory: exit 0, nothing fails, no SMTP is a warning, and the JSON has its shape', async () => {
    const dataDir = tempDir()
    const res = await doctor({ STOREFLOW_DATA_DIR: dataDir })
    expect(res.code, res.stdout + res.stderr).toBe(0)
    expect(res.ok).toBe(true)
    for (const c of res.checks) {
      expect(Object.keys(c).sort()).toEqual(['fix', 'name', 'reason', 'status'])
      expect(['ok', 'warn', 'fail']).toContain(c.status)
      expect(c.reason).not.toContain('\n')
      // a fix for everything not ok, none for what is
      if (c.status === 'ok') expect(c.fix).toBeNull()
      else expect(c.fix).toMatch(/\w/)
    }
    expect(res.checks.filter((c) => c.status === 'fail')).toEqual([])
    expect(check(res.checks, 'smtp')).toMatchObject({ status: 'warn', reason: expect.stringMatching(/no SMTP configured/) })
    expect(check(res.checks, 'secret_key').status).toBe('ok')
    expect(check(res.checks, 'public_url')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/STOREFLOW_PUBLIC_URL/) })

    // migrated, the database and its migrations are ok; a public https URL is ok
    expect((await runCli(['migrate'], { STOREFLOW_DATA_DIR: dataDir })).code).toBe(0)
    const after = await doctor({ STOREFLOW_DATA_DIR: dataDir, STOREFLOW_PUBLIC_URL: 'https://shop.example.com' })
    expect(after.code).toBe(0)
    expect(check(after.checks, 'database')).toMatchObject({ status: 'ok', reason: expect.stringMatching(/SQLite at .*storeflow\.db/) })
    expect(check(after.checks, 'migrations').status).toBe('ok')
    expect(check(after.checks, 'public_url').status).toBe('ok')

    // the text form says the same in lines, and exits the same way
    const text = await runCli(['doctor'], { STOREFLOW_DATA_DIR: dataDir })
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^ok +database: SQLite at/m)
    expect(text.stdout).toMatch(/^warn +smtp: no SMTP configured/m)
  }, 120_000)

  it('a connector added under one key, doctor run with another: fail naming STOREFLOW_SECRET_KEY, exit 1, no secret printed', async () => {
    const dataDir = tempDir()
    const env = { STOREFLOW_DATA_DIR: dataDir, STOREFLOW_SECRET_KEY: 'the-first-key-0123456789abcdef', STOREFLOW_ALLOW_PRIVATE_HTTP: '1' }
    const add = await runCli(
      [
        'connectors',
        'add',
        '--platform',
        'bigcommerce',
        '--secret',
        'whsec-doctor-visible-never',
        '--api-url',
        `${shopApi.url}/stores/abc`,
        '--access-token',
        'tok-doctor-never-shown',
        '--json',
      ],
      env,
    )
    expect(add.code, add.stderr).toBe(0)
    const connectorId = (JSON.parse(add.stdout) as { id: string }).id

    // with the key it was sealed with: the secret opens and the shop's API answers
    const good = await doctor(env)
    expect(good.code, good.stdout).toBe(0)
    expect(check(good.checks, 'secret_key')).toMatchObject({ status: 'ok' })
    expect(check(good.checks, `connector ${connectorId}`)).toMatchObject({ status: 'ok', reason: expect.stringMatching(/answers \(HTTP 200\)/) })
    expect(shopApi.requests.some((r) => r.path.startsWith('/stores/abc'))).toBe(true)

    const wrong = await doctor({ ...env, STOREFLOW_SECRET_KEY: 'a-different-key-fedcba9876543210' })
    expect(wrong.code).toBe(1)
    expect(wrong.ok).toBe(false)
    expect(check(wrong.checks, 'secret_key')).toMatchObject({ status: 'fail', reason: expect.stringMatching(/^STOREFLOW_SECRET_KEY does not open 1 of 1/) })
    expect(check(wrong.checks, `connector ${connectorId}`).status).toBe('fail')
    for (const out of [good, wrong]) {
      for (const secret of ['whsec-doctor-visible-never', 'tok-doctor-never-shown', 'the-first-key-0123456789abcdef', 'a-different-key-fedcba9876543210'])
        expect(out.stdout + out.stderr).not.toContain(secret)
    }

    // a shop API nothing answers at: the connector fails, naming its host
    const port = await closedPort()
    const unreachable = await runCli(
      ['connectors', 'add', '--platform', 'bigcommerce', '--secret', 's2', '--api-url', `http://127.0.0.1:${port}/stores/x`, '--access-token', 't2', '--json'],
      env,
    )
    const second = (JSON.parse(unreachable.stdout) as { id: string }).id
    const down = await doctor(env)
    expect(down.code).toBe(1)
    expect(check(down.checks, `connector ${second}`)).toMatchObject({ status: 'fail', reason: expect.stringContaining(`127.0.0.1:${port}`) })
  }, 120_000)

  it('SMTP: a real server answering is ok; a closed port fails with exit 1; the password is never printed', async () => {
    const dataDir = tempDir()
    expect((await runCli(['migrate'], { STOREFLOW_DATA_DIR: dataDir })).code).toBe(0)
    const up = await doctor({ STOREFLOW_DATA_DIR: dataDir, SMTP_URL: smtp.url })
    expect(up.code, up.stdout).toBe(0)
    expect(check(up.checks, 'smtp')).toMatchObject({ status: 'ok', reason: expect.stringMatching(/answers/) })
    // verify opened a session and sent nothing
    expect(smtp.received).toHaveLength(0)

    const port = await closedPort()
    const down = await doctor({ STOREFLOW_DATA_DIR: dataDir, SMTP_URL: `smtp://mailer:pa55-never-shown@127.0.0.1:${port}` })
    expect(down.code).toBe(1)
    expect(check(down.checks, 'smtp')).toMatchObject({
      status: 'fail',
      reason: expect.stringContaining(`127.0.0.1:${port}`),
      fix: expect.stringMatching(/SMTP_URL/),
    })
    expect(down.stdout + down.stderr).not.toContain('pa55-never-shown')
  }, 120_000)

  it.runIf(pgAvailable)(
    'PostgreSQL: the database and its migrations are ok; without STOREFLOW_SECRET_KEY the key fails, naming it',
    async () => {
      const env = await createTestEnv('postgres')
      try {
        const vars = await cliEnvFor(env, 'postgres')
        const res = await doctor(vars)
        expect(res.code, res.stdout).toBe(0)
        expect(check(res.checks, 'database')).toMatchObject({ status: 'ok', reason: expect.stringMatching(/^PostgreSQL at /) })
        expect(check(res.checks, 'migrations').status).toBe('ok')
        const { STOREFLOW_SECRET_KEY: _key, ...withoutKey } = vars
        const noKey = await doctor({ ...withoutKey, STOREFLOW_DATA_DIR: tempDir() })
        expect(noKey.code).toBe(1)
        expect(check(noKey.checks, 'secret_key')).toMatchObject({ status: 'fail', reason: expect.stringMatching(/STOREFLOW_SECRET_KEY is not set/) })
      } finally {
        await env.cleanup()
      }
    },
    120_000,
  )
})
