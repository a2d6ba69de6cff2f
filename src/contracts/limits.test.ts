import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MONEY_LIMITS } from '../lib/money.ts'
import { MAX_UNITS } from './events.ts'
import { INGEST_LIMITS } from './limits.ts'

/** docs/limits.md is hand-written: this holds each row to the value the code enforces. */
describe('docs/limits.md', () => {
  const page = readFileSync(new URL('../../docs/limits.md', import.meta.url), 'utf8')
  const rows = page.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Limit') && !l.startsWith('|---'))
  const row = (name: string) => {
    const found = rows.find((r) => r.startsWith(`| ${name} |`))
    if (!found) throw new Error(`docs/limits.md has no row "${name}"`)
    return found.split('|')[2]!.replace(/,/g, '')
  }

  it('states the value the code enforces, for every limit', () => {
    expect(row('Nesting depth')).toContain(`${INGEST_LIMITS.depth} levels`)
    expect(row('String length')).toContain(`${INGEST_LIMITS.stringLength} characters`)
    expect(row('List size')).toContain(`${INGEST_LIMITS.listSize} items`)
    expect(row('Keys per object')).toContain(`${INGEST_LIMITS.keysPerObject} keys`)
    expect(row('Key length')).toContain(`${INGEST_LIMITS.keyLength} characters`)
    expect(row('Money amounts')).toContain(`${MONEY_LIMITS.integerDigits} digits before the point and ${MONEY_LIMITS.decimals} after`)
    expect(row('Unit counts')).toContain(`${MAX_UNITS} units`)
    // every limit in the code has its row
    expect(Object.keys(INGEST_LIMITS)).toHaveLength(5)
  })
})
