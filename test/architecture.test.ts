import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Layers are folders and imports point down only (README.md, Design notes). This is the lint rule: it reads
 * every import in src/ and checks it against the allowed directions.
 */
const SRC = fileURLToPath(new URL('../src/', import.meta.url))

const ALLOWED: Record<string, string[]> = {
  lib: ['lib'],
  contracts: ['lib', 'contracts'],
  core: ['lib', 'contracts', 'core'],
  'plugin-api': ['lib', 'contracts', 'plugin-api'],
  actions: ['lib', 'contracts', 'core', 'plugin-api', 'actions'],
  triggers: ['lib', 'contracts', 'core', 'plugin-api', 'triggers'],
  connectors: ['lib', 'contracts', 'core', 'connectors'],
  // store implements the engine's ports, so it may read their types
  store: ['lib', 'contracts', 'core', 'plugin-api', 'connectors', 'store', 'engine/ports'],
  engine: ['lib', 'contracts', 'core', 'plugin-api', 'engine'],
  services: ['lib', 'contracts', 'core', 'plugin-api', 'actions', 'triggers', 'connectors', 'store', 'engine', 'services', 'config'],
  http: ['lib', 'contracts', 'core', 'plugin-api', 'actions', 'connectors', 'store', 'engine', 'services', 'http', 'main', 'config'],
  cli: ['*'],
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

function layerOf(path: string): string {
  const rel = relative(SRC, path).replace(/\\/g, '/')
  if (rel === 'engine/ports.ts') return 'engine/ports'
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '')
}

describe('layering', () => {
  const sources = files(SRC)

  it.each(Object.keys(ALLOWED))('%s imports only from the layers below it', (layer) => {
    const allowed = ALLOWED[layer]!
    const violations: string[] = []
    for (const file of sources.filter((f) => layerOf(f) === layer || (layer === 'engine' && layerOf(f) === 'engine/ports'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
        const target = layerOf(join(file, '..', match[1]!))
        if (allowed.includes('*') || allowed.includes(target) || (target === 'engine/ports' && allowed.includes('engine'))) continue
        violations.push(`${relative(SRC, file)} imports ${match[1]} (${target})`)
      }
    }
    expect(violations).toEqual([])
  })

  it('only http/ knows Fastify, and only cli/ writes to the console', () => {
    const offenders = sources.filter((f) => !['http', 'cli'].includes(layerOf(f)) && /from ['"]fastify['"]/.test(readFileSync(f, 'utf8')))
    expect(offenders.map((f) => relative(SRC, f))).toEqual([])
    const consoleUsers = sources.filter((f) => layerOf(f) !== 'cli' && /\bconsole\.(log|error|warn|info)\(/.test(readFileSync(f, 'utf8')))
    expect(consoleUsers.map((f) => relative(SRC, f))).toEqual([])
  })
})

/**
 * Every request storeflow makes on a tenant's behalf (connector APIs, http_request, SMS, chat
 * webhooks, and whatever comes next) goes through the guarded client in src/lib/guarded-request.ts:
 * the address checked where the connection is made, redirects refused, size and time capped
 * (issue 7, defect 4). Nothing else under src/ may open an HTTP request or a socket of its own.
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
    { what: 'a value import from node:http, node:https, node:http2, node:tls or undici', pattern: /^\s*import\s+(?!type\b)[^;]*from\s+['"](node:)?(https?|http2|tls|undici)['"]/m },
    { what: 'a socket opened with net.connect / createConnection', pattern: /\bnet\.(connect|createConnection)\s*\(|\bnew\s+net\.Socket\b|\bimport\s*\{[^}]*\b(connect|createConnection|Socket)\b[^}]*\}\s*from\s+['"](node:)?net['"]/ },
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
      '// we never fetch(x) here', "import type { IncomingMessage } from 'node:http'", 'fetchOrder(api, id)', "import { BlockList, isIP } from 'node:net'",
      "throw new UserError('needs a token to fetch the resource')", 'await services.http.request(url, options)',
    ]) {
      expect(OUTBOUND.some(({ pattern }) => pattern.test(code(harmless))), harmless).toBe(false)
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
