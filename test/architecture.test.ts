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
  http: ['lib', 'contracts', 'core', 'plugin-api', 'actions', 'connectors', 'store', 'engine', 'http', 'main', 'config'],
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
