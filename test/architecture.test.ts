import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../', import.meta.url))
const SRC = join(REPO, 'src')
const DEPCRUISE = join(REPO, 'node_modules', '.bin', 'depcruise')
const CONFIG = join(REPO, '.dependency-cruiser.cjs')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

function layerOf(path: string): string {
  const rel = relative(SRC, path).replace(/\\/g, '/')
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '')
}

/** dependency-cruiser with the repository's rules over the tree at `cwd`: the rules each violation broke, as "rule: from → to" */
function cruise(cwd: string): string[] {
  // it exits 1 when a rule is broken; the JSON report is on stdout either way
  const { stdout, stderr } = spawnSync(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (!stdout) throw new Error(`dependency-cruiser wrote no report: ${stderr}`)
  const result = JSON.parse(stdout) as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> } }
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)
}

/**
 * The layers are rules of dependency-cruiser (.dependency-cruiser.cjs), which `npm run lint` runs
 * over src/. Here a small tree breaks each rule once, to show every rule bites, and keeps a few
 * imports that are allowed, to show none bites too much.
 */
describe('layering (dependency-cruiser)', () => {
  let tree: string
  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'storeflow-layers-'))
    const write = (path: string, text: string) => {
      mkdirSync(join(tree, path, '..'), { recursive: true })
      writeFileSync(join(tree, path), text)
    }
    copyFileSync(join(REPO, 'tsconfig.json'), join(tree, 'tsconfig.json'))
    symlinkSync(join(REPO, 'node_modules'), join(tree, 'node_modules'))
    write('src/lib/clock.ts', 'export const now = () => 1\n')
    write('src/contracts/events.ts', "import { now } from '../lib/clock.ts'\nexport const t = now\n")
    write('src/store/db.ts', 'export const db = 1\n')
    write(
      'src/store/runs.repo.ts',
      "import { db } from './db.ts'\nimport type { Port } from '../engine/ports.ts'\nexport const runs = db\nexport type P = Port\n",
    )
    write('src/engine/ports.ts', 'export type Port = number\n')
    write('src/engine/engine.ts', "import { runs } from '../store/runs.repo.ts'\nexport const e = runs\n")
    write(
      'src/services/runs.ts',
      "import { runs } from '../store/runs.repo.ts'\nimport { e } from '../engine/engine.ts'\nexport const list = () => [runs, e]\n",
    )
    write('src/main.ts', 'export interface App { name: string }\nexport const createApp = (): App => ({ name: "app" })\n')
    write(
      'src/http/routes/runs.ts',
      "import { list } from '../../services/runs.ts'\nimport { db } from '../../store/db.ts'\nimport type { App } from '../../main.ts'\nexport const r = [list, db]\nexport type A = App\n",
    )
    write('src/cli/start.ts', "import { createApp } from '../main.ts'\nexport const s = createApp\n")
    write('src/cli/commands/runs.ts', "import { e } from '../../engine/engine.ts'\nimport { t } from '../../contracts/events.ts'\nexport const c = [e, t]\n")
    write('src/core/loop-a.ts', "import { b } from './loop-b.ts'\nexport const a = () => b\n")
    write('src/core/loop-b.ts', "import { a } from './loop-a.ts'\nexport const b = () => a\n")
    write('src/store/queries.ts', "import { sql } from 'kysely'\\nexport const q = sql`select 1`\\n")
    write(
      'src/services/raw.ts',
      "import { sql } from 'kysely'\\nimport type { Kysely } from 'kysely'\\nexport const q = sql`select 1`\\nexport type K = Kysely<object>\\n",
    )
    write('src/engine/routes.ts', "import Fastify from 'fastify'\\nexport const f = Fastify\\n")
    write('src/lib/oops.ts', "import { list } from '../services/runs.ts'\nexport const o = list\n")
  })
  afterAll(() => rmSync(tree, { recursive: true, force: true }))

  it('src/ keeps every rule', () => {
    expect(cruise(REPO)).toEqual([])
  })

  it('each rule catches an import that breaks it, and lets the allowed ones be', () => {
    const violations = cruise(tree)
    expect(violations.sort()).toEqual(
      [
        'layer-engine: src/engine/engine.ts → src/store/runs.repo.ts',
        'layer-http: src/http/routes/runs.ts → src/store/db.ts',
        'layer-cli: src/cli/commands/runs.ts → src/engine/engine.ts',
        'edges-see-the-app-type-only: src/cli/start.ts → src/main.ts',
        'layer-lib: src/lib/oops.ts → src/services/runs.ts',
        'sql-in-store-only: src/services/raw.ts → node_modules/kysely/dist/esm/index.js',
        'fastify-in-http-only: src/engine/routes.ts → node_modules/fastify/fastify.js',
        // a cycle is reported once, where dependency-cruiser first meets it
        'no-circular: src/core/loop-a.ts → src/core/loop-b.ts',
      ].sort(),
    )
  })
})

describe('what only one layer may use', () => {
  const sources = files(SRC)

  // a property is not an import, so dependency-cruiser cannot see this: the edges are handed the
  // whole App (type only), and must still use nothing of it below its services
  it('http/ and cli/ reach the app through its services, never its database handle, engine or actions', () => {
    const reachesBelow = /\b(app|root)\.(handle|engine|actions)\b|\.handle\.db\b/
    const offenders = sources.filter((f) => ['http', 'cli'].includes(layerOf(f)) && reachesBelow.test(readFileSync(f, 'utf8'))).map((f) => relative(SRC, f))
    expect(offenders).toEqual([])
    expect(reachesBelow.test('const db = app.handle.db')).toBe(true)
    expect(reachesBelow.test('await app.engine.tick()')).toBe(true)
    expect(reachesBelow.test('app.services.runs.list(store)')).toBe(false)
  })

  // a call is not an import, so dependency-cruiser cannot see this one
  it('only cli/ writes to the console', () => {
    const consoleUsers = sources.filter((f) => layerOf(f) !== 'cli' && /\bconsole\.(log|error|warn|info)\(/.test(readFileSync(f, 'utf8')))
    expect(consoleUsers.map((f) => relative(SRC, f))).toEqual([])
  })
})

/**
 * Every request storeflow makes on a tenant's behalf (connector APIs, http_request, SMS, chat
 * webhooks, and whatever comes next) goes through the guarded client in src/lib/guarded-request.ts:
 * the address checked where the connection is made, redirects refused, size and time capped. Nothing else under src/ may open an HTTP request or a socket of its own.
 */
describe('outbound requests', () => {
  const GUARDED_CLIENT = 'lib/guarded-request.ts'
  // nodemailer speaks SMTP only to SMTP_URL, the operator's own mail server from the environment
  // or config file; no tenant, workflow or connector can name that host. Its one importer is this file.
  const SMTP_CLIENT = 'actions/send-email/smtp.ts'
  // comments may name what they must not call; URLs in strings (`https://`) are not comments
  const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
  const sources = files(SRC).map((path) => ({ rel: relative(SRC, path).replace(/\\/g, '/'), text: code(readFileSync(path, 'utf8')) }))
  const OUTBOUND = [
    // a call, or the global handed on as a value (`{ fetch }`, `= fetch`, `typeof fetch`), or through globalThis
    { what: 'fetch', pattern: /(?<![\w$.])fetch\s*\(|\.fetch\s*\(|globalThis\.fetch\b|[{,]\s*fetch\s*[,}]|(=|typeof)\s*fetch\b/ },
    // node's modules by their usual names (`services.http.request` is the guarded client, not this)
    { what: 'http(s).request/get()', pattern: /(?<![\w$.])https?\.(request|get)\s*\(/ },
    {
      what: 'a value import from node:http, node:https, node:http2, node:tls or undici',
      pattern: /^\s*import\s+(?!type\b)[^;]*from\s+['"](node:)?(https?|http2|tls|undici)['"]/m,
    },
    {
      what: 'a socket opened with net.connect / createConnection',
      pattern:
        /\bnet\.(connect|createConnection)\s*\(|\bnew\s+net\.Socket\b|\bimport\s*\{[^}]*\b(connect|createConnection|Socket)\b[^}]*\}\s*from\s+['"](node:)?net['"]/,
    },
  ]

  it.each(OUTBOUND)('only the guarded client makes $what', ({ pattern }) => {
    const offenders = sources.filter((f) => f.rel !== GUARDED_CLIENT && pattern.test(f.text)).map((f) => f.rel)
    expect(offenders).toEqual([])
  })

  it('the rule sees real calls: each pattern catches its kind, and the guarded client itself is caught', () => {
    const samples = [
      ['await fetch(url)', 'map(d, creds, { fetch })', 'globalThis.fetch(u)', 'deps.fetch(url, init)', 'const f: typeof fetch = x', 'const f = fetch'],
      ['http.request(url, options)', 'https.get(url)'],
      ["import https from 'node:https'", "import { request } from 'undici'", "import { connect } from 'node:tls'"],
      ["import { connect } from 'node:net'", 'net.createConnection({ host, port })'],
    ]
    OUTBOUND.forEach(({ pattern }, i) => {
      for (const sample of samples[i]!) expect(pattern.test(code(sample)), sample).toBe(true)
    })
    for (const harmless of [
      '// we never fetch(x) here',
      "import type { IncomingMessage } from 'node:http'",
      'fetchOrder(api, id)',
      "import { BlockList, isIP } from 'node:net'",
      "throw new UserError('needs a token to fetch the resource')",
      'await services.http.request(url, options)',
    ]) {
      expect(
        OUTBOUND.some(({ pattern }) => pattern.test(code(harmless))),
        harmless,
      ).toBe(false)
    }
    const client = sources.find((f) => f.rel === GUARDED_CLIENT)
    expect(client).toBeDefined()
    expect(OUTBOUND[2]!.pattern.test(client!.text)).toBe(true)
  })

  it('nodemailer is used by the operator-configured SMTP client only', () => {
    const users = sources.filter((f) => /from\s+['"]nodemailer['"]/.test(f.text)).map((f) => f.rel)
    expect(users).toEqual([SMTP_CLIENT])
  })
})
