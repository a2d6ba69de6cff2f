import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_SEED as HELP_SEED } from '../../src/cli/commands/demo.ts'
import { DEFAULT_SEED } from '../../src/services/demo-data.ts'
import { CLI, startStoreflow, waitForOutput, type StoreflowProcess } from '../helpers/processes.ts'

/**
 * `npm start` on a fresh clone, as real processes in an empty directory with nothing configured
 * (SQLite, the embedded default, in ./data): the first start seeds the demo store and serves, a
 * second start seeds nothing; serve's flags work on start; `demo`'s flags are checked.
 */
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-start-'))
  dirs.push(dir)
  return dir
}

/** the parent's environment without any storeflow setting or database: what a fresh clone has */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env))
    if (name.startsWith('STOREFLOW_') || name.startsWith('VITEST') || name === 'DATABASE_URL' || name === 'SMTP_URL') delete env[name]
  return { ...env, STOREFLOW_LOG_LEVEL: 'warn', ...extra }
}

/** `storeflow ARGS…` in `cwd`, as `npm start` runs it (node bin/storeflow.mjs …) */
const run = (cwd: string, args: string[], extra: Record<string, string> = {}): StoreflowProcess => startStoreflow(args, extra, { cwd, baseEnv: cleanEnv() })

/** runs `storeflow ARGS…` to its end in `cwd` */
function cli(cwd: string, args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(extra), timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

/** every event of the default store, newest first, through the API */
async function allEvents(url: string, key: string): Promise<Array<{ id: string; historical: boolean }>> {
  const items: Array<{ id: string; historical: boolean }> = []
  let cursor = ''
  do {
    const res = await fetch(`${url}/api/v1/events?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      headers: { authorization: `Bearer ${key}` },
    })
    expect(res.status).toBe(200)
    const page = (await res.json()) as { items: Array<{ id: string; historical: boolean }>; next_cursor: string | null }
    items.push(...page.items)
    cursor = page.next_cursor ?? ''
  } while (cursor)
  return items
}

async function listening(proc: StoreflowProcess): Promise<string> {
  return (await waitForOutput(proc, /listening on (http:\/\/[^\s]+:\d+)/, 120_000))[1]!
}

describe('npm start on a fresh clone (SQLite)', { timeout: 300_000 }, () => {
  it('the first start seeds the demo once and serves on the port asked for; the second seeds nothing; every template is installed inactive', async () => {
    const dir = freshDir()

    // serve's flags are start's: a bad one is refused before anything is seeded
    const bad = await cli(dir, ['start', '--port', 'http'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe('error: --port must be a whole number from 0 to 65535, got "http"\n')
    const unknown = await cli(dir, ['start', '--prot', '4000'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain("unknown option '--prot'")

    const first = run(dir, ['start', '--port', '0', '--host', '127.0.0.1'])
    const url = await listening(first)
    const seeded = first.output()
    expect(seeded).toContain('first start: seeding the demo store')
    // no STOREFLOW_ADMIN_EMAIL here: it says how to get a dashboard login (PRODUCT §1), once
    expect(seeded).toContain('dashboard login: no user yet; create one with `npx storeflow users create EMAIL`')
    expect(seeded.split('storeflow users create EMAIL').length - 1).toBe(1)
    // the seed `demo --help` names is the one used
    expect(HELP_SEED).toBe(DEFAULT_SEED)
    expect(seeded).toMatch(/demo store \(seed 20260302\): 20 products \(46 variants\) from 4 suppliers, 200 customers/)
    const accepted = Number(/events: (\d+) stored, 0 already there/.exec(seeded)?.[1])
    expect(accepted).toBeGreaterThan(1000)
    // the data went where a fresh clone keeps it
    expect(existsSync(join(dir, 'data', 'storeflow.db'))).toBe(true)
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    expect(await first.stop()).toBe(0)

    const key = JSON.parse((await cli(dir, ['keys', 'create', '--scope', 'admin', '--json'])).stdout).key as string
    const second = run(dir, ['start', '--port', '0'])
    const url2 = await listening(second)
    expect(second.output()).not.toContain('first start')
    expect(second.output()).toContain('demo store: already seeded')
    expect(second.output()).not.toMatch(/events: \d+ stored/)
    // the demo's events (storeflow's own derived ones left out): the first start's, no more
    const ids = (await allEvents(url2, key)).map((e) => e.id).filter((id) => id.startsWith('demo-'))
    expect(ids.length).toBe(accepted)
    expect(new Set(ids).size).toBe(accepted)

    // every template, installed and inactive, as the API shows the workflows
    const res = await fetch(`${url2}/api/v1/workflows?limit=500`, { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
    const workflows = ((await res.json()) as { items: Array<{ id: string; active: boolean }> }).items
    expect(await second.stop()).toBe(0)
    const templates = JSON.parse((await cli(dir, ['templates', 'list', '--json'])).stdout) as Array<{ name: string }>
    expect(templates.length).toBeGreaterThanOrEqual(19)
    expect(workflows.map((w) => w.id).sort()).toEqual(templates.map((t) => t.name).sort())
    expect(workflows.filter((w) => w.active)).toEqual([])
    const listed = JSON.parse((await cli(dir, ['workflows', 'list', '--json'])).stdout) as Array<{ active: boolean }>
    expect(listed.length).toBe(templates.length)
    expect(listed.every((w) => w.active === false)).toBe(true)
  })

  it('demo refuses bad flags naming them; --live sends traffic until SIGINT, then says how much and exits 0', async () => {
    const dir = freshDir()
    const cases: Array<[string[], string]> = [
      [['--seed', 'abc'], 'error: --seed must be a whole number from 0 to 4294967295, got "abc"\n'],
      [['--seed', '-1'], 'error: --seed must be a whole number from 0 to 4294967295, got "-1"\n'],
      [['--seed', '1.5'], 'error: --seed must be a whole number from 0 to 4294967295, got "1.5"\n'],
      [['--live', '0'], 'error: --live must be a number above 0 and at most 1000, got "0"\n'],
      [['--live', 'fast'], 'error: --live must be a number above 0 and at most 1000, got "fast"\n'],
      [['--live', '5000'], 'error: --live must be a number above 0 and at most 1000, got "5000"\n'],
      [['--customers', '0'], 'error: --customers must be a whole number ≥ 1, got "0"\n'],
    ]
    for (const [args, stderr] of cases) {
      const r = await cli(dir, ['demo', ...args])
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr, args.join(' ')).toBe(stderr)
    }
    // nothing was seeded by any of them
    expect(JSON.parse((await cli(dir, ['workflows', 'list', '--json'])).stdout)).toEqual([])

    const live = run(dir, ['demo', '--customers', '10', '--days', '7', '--seed', '3', '--live', '20'])
    await waitForOutput(live, /live: sending about 20 events a second to store default/, 120_000)
    expect(live.output()).toContain('demo store (seed 3)')
    // a line every ten seconds' worth of events (200 at 20 a second)
    await waitForOutput(live, /live: 200 events sent \(last: /, 120_000)
    live.child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => (live.child.exitCode !== null ? resolve(live.child.exitCode) : live.child.on('exit', resolve)))
    expect(code).toBe(0)
    const stopped = Number(/live: stopped after (\d+) events/.exec(live.output())?.[1])
    expect(stopped).toBeGreaterThanOrEqual(200)

    // what it sent is in the log, live (not historical)
    const key = JSON.parse((await cli(dir, ['keys', 'create', '--scope', 'admin', '--json'])).stdout).key as string
    const serve = run(dir, ['serve', '--port', '0', '--no-worker'])
    const url = await listening(serve)
    const liveEvents = (await allEvents(url, key)).filter((e) => e.id.startsWith('demo-live-'))
    expect(await serve.stop()).toBe(0)
    expect(liveEvents.length).toBe(stopped)
    expect(liveEvents.every((e) => e.historical === false)).toBe(true)
  })
})
