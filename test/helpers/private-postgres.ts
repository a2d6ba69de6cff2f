import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

/**
 * A PostgreSQL cluster of a test's own, on a free port with trust auth, that the test may stop
 * and restart at will. The machine's shared PostgreSQL is never touched: other test files use
 * it at the same time.
 *
 * PostgreSQL refuses to run as root; when the tests run as root, the cluster belongs to the
 * `postgres` system user and every server command runs through `runuser`.
 */
export interface PrivatePostgres {
  host: string
  port: number
  /** whether start() (or restart()) has run since the last stop() */
  readonly running: boolean
  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url(database?: string): string
  start(): Promise<void>
  /** `pg_ctl stop -m fast`: connections are terminated (57P01), the server is down */
  stop(): Promise<void>
  /** `pg_ctl restart -m fast` */
  restart(): Promise<void>
  createDatabase(name: string): Promise<void>
  /** stops the server if it runs and removes the cluster's directory */
  destroy(): Promise<void>
  /** the server's own log, for failure messages */
  log(): string
}

/** The directory holding initdb, pg_ctl and postgres, newest version first; null when absent. */
export function findPostgresBinaries(): string | null {
  const candidates: string[] = []
  if (process.env.PG_BINDIR) candidates.push(process.env.PG_BINDIR)
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    candidates.push(...versions.map((v) => join(root, v, 'bin')))
  }
  candidates.push('/usr/local/pgsql/bin', '/usr/local/bin', '/usr/bin')
  return candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)))) ?? null
}

/**
 * Where the binaries are missing, a test of a private cluster cannot run: under CI that is a
 * failure (the CI image must have them), elsewhere a visible skip.
 */
export function privatePostgresAvailable(what: string): boolean {
  const bin = findPostgresBinaries()
  if (bin) return true
  const message = `PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under /usr/lib/postgresql/*/bin or PG_BINDIR: ${what}`
  if (process.env.CI === 'true') throw new Error(`CI=true and ${message} cannot run`)
  console.warn(`[storeflow tests] ${message} is SKIPPED`)
  return false
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[file, ...args].join(' ')} failed: ${err.message}\n${stdout}${stderr}`))
      else resolve(stdout + stderr)
    })
  })
}

/**
 * initdb into a fresh temporary directory; the server is not started until start(). `durable`
 * keeps fsync on, as a real installation runs (the benchmarks); tests turn it off.
 */
export async function createPrivatePostgres(options: { durable?: boolean } = {}): Promise<PrivatePostgres> {
  const bin = findPostgresBinaries()
  if (!bin) throw new Error('PostgreSQL server binaries not found')
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-pg-'))
  const data = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const asRoot = process.getuid?.() === 0
  let uid = 0
  let gid = 0
  if (asRoot) {
    const ids = `${(await run('id', ['-u', 'postgres'])).trim()} ${(await run('id', ['-g', 'postgres'])).trim()}`
    ;[uid, gid] = ids.split(/\s+/).map(Number) as [number, number]
    chownSync(dir, uid, gid)
  }
  // as root, every server command runs as the postgres user
  const command = (tool: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args))
  await command('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const host = '127.0.0.1'
  // the socket directory is the cluster's own, so nothing collides with the shared server;
  // fsync off: the tests restart the server, never the machine
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=${host} -c fsync=${options.durable ? 'on' : 'off'} -c max_connections=100`
  let running = false
  const ctl = (...args: string[]) => command('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', ...args])
  const url = (database = 'postgres') => `postgres://postgres@${host}:${port}/${database}`
  return {
    host,
    port,
    url,
    get running() {
      return running
    },
    async start() {
      await ctl('-o', serverOptions, 'start')
      running = true
    },
    async stop() {
      await ctl('-m', 'fast', 'stop')
      running = false
    },
    async restart() {
      await ctl('-m', 'fast', '-o', serverOptions, 'restart')
      running = true
    },
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: url() })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${name}`)
      } finally {
        await client.end()
      }
    },
    async destroy() {
      if (running) await ctl('-m', 'immediate', 'stop').catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  }
}
