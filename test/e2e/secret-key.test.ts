import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, schemaUrl } from '../helpers/cli-run.ts'
import { createTestEnv, pgAvailable } from '../helpers/dialects.ts'
import { startStoreflow } from '../helpers/processes.ts'
import { rowCounts } from '../helpers/row-counts.ts'
import { sql } from 'kysely'

/**
 * Issue 7, defect 5: on PostgreSQL, processes share one database but not a disk, so a key made up
 * by each process would encrypt secrets and sign links no other process can read. Without
 * STOREFLOW_SECRET_KEY every command that encrypts, decrypts or signs stops at once with one line
 * saying what to set; `migrate` (schema only) still runs. SQLite keeps its generated key file in the
 * data directory, shared by every process on that machine.
 */

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-key-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/**
 * Starts a long-running command and waits until it exits or says it is up. Old behaviour is a
 * process that keeps running: that is reported (and the process stopped) rather than waited on.
 */
async function exitOrUp(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string; up: boolean }> {
  const proc = startStoreflow(args, { STOREFLOW_PORT: '0', ...env })
  const exited = new Promise<number | null>((resolve) => proc.child.on('exit', (code) => resolve(code)))
  const up = new Promise<'up'>((resolve) => {
    const timer = setInterval(() => {
      if (/listening on|worker .* running/.test(proc.output())) {
        clearInterval(timer)
        resolve('up')
      }
    }, 100)
    void exited.then(() => clearInterval(timer))
  })
  const first = await Promise.race([exited, up])
  if (first === 'up') {
    await proc.stop()
    return { code: null, output: proc.output(), up: true }
  }
  return { code: first, output: proc.output(), up: false }
}

describe.runIf(pgAvailable)('PostgreSQL without STOREFLOW_SECRET_KEY', () => {
  it('serve, worker and connectors add stop at start with one clear line and a non-zero exit, writing nothing; migrate still runs', async () => {
    const env = await createTestEnv('postgres')
    try {
      const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(env.app.handle.db)).rows[0]!.s
      const dataDir = tempDir()
      const vars = { DATABASE_URL: schemaUrl(schema), STOREFLOW_DATA_DIR: dataDir, STOREFLOW_LOG_LEVEL: 'warn' }
      const before = await rowCounts(env.app.handle)

      const commands = [['serve'], ['worker'], ['serve', '--no-worker']]
      const results = await Promise.all(commands.map((args) => exitOrUp(args, vars)))
      for (const [i, args] of commands.entries()) {
        const res = results[i]!
        expect(res.up, `${args.join(' ')} started without a key:\n${res.output}`).toBe(false)
        expect(res.code, args.join(' ')).not.toBe(0)
        const lines = res.output.trim().split('\n')
        expect(lines, res.output).toHaveLength(1)
        expect(lines[0]).toMatch(/^error: .*STOREFLOW_SECRET_KEY.*PostgreSQL/)
        expect(res.output).not.toMatch(/looks like a bug|at .*\.ts:\d+/)
      }
      const add = await runCli(['connectors', 'add', '--platform', 'shopify', '--secret', 'shpss_x', '--json'], vars)
      expect(add.code).toBe(1)
      expect(add.stderr.trim()).toMatch(/^error: .*STOREFLOW_SECRET_KEY/)
      expect(add.stdout).toBe('')

      expect(await rowCounts(env.app.handle)).toEqual(before)
      // no key file is made up for a PostgreSQL installation
      expect(existsSync(join(dataDir, 'secret.key'))).toBe(false)

      // migrate reads and writes no secret: it runs
      const migrate = await runCli(['migrate', '--json'], vars)
      expect(migrate.code, migrate.stderr).toBe(0)
      // with the key set, the same command works
      const withKey = await runCli(['connectors', 'add', '--platform', 'shopify', '--secret', 'shpss_x', '--json'], {
        ...vars,
        STOREFLOW_SECRET_KEY: 'shared-key',
      })
      expect(withKey.code, withKey.stderr).toBe(0)
    } finally {
      await env.cleanup()
    }
  }, 300_000)
})

describe('SQLite without STOREFLOW_SECRET_KEY', () => {
  it('the first process writes a key file (0600) in the data directory; the next process reads secrets with it', async () => {
    const dataDir = tempDir()
    const vars = { STOREFLOW_DATA_DIR: dataDir }
    const add = await runCli(['connectors', 'add', '--platform', 'shopify', '--secret', 'shpss_local', '--json'], vars)
    expect(add.code, add.stderr).toBe(0)
    const keyFile = join(dataDir, 'secret.key')
    expect(existsSync(keyFile)).toBe(true)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const key = readFileSync(keyFile, 'utf8').trim()
    expect(key.length).toBeGreaterThanOrEqual(32)
    const created = JSON.parse(add.stdout) as { secret_fingerprints: string[] }
    const list = await runCli(['connectors', 'list', '--json'], vars)
    expect(list.code, list.stderr).toBe(0)
    // the second process opened the sealed secret: same fingerprint, so the same key
    expect((JSON.parse(list.stdout) as Array<{ secret_count: number; secret_fingerprints: string[] }>)[0]).toMatchObject({
      secret_count: 1,
      secret_fingerprints: created.secret_fingerprints,
    })
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(key)
  }, 180_000)
})
