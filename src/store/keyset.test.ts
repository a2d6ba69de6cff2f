import { describe, expect, it } from 'vitest'
import { createTestEnv, DIALECTS } from '../../test/helpers/dialects.ts'
import { decodeCursor, decodeSeqCursor, encodeCursor, newestFirst, newestFirstBySeq, pageOfList } from './keyset.ts'

describe('cursors', () => {
  // clients hold these between requests: their encodings never change
  it('keep their encodings', () => {
    expect(encodeCursor(['2026-01-01T00:00:00.000Z', 'run_1'])).toBe(Buffer.from('["2026-01-01T00:00:00.000Z","run_1"]').toString('base64url'))
    expect(decodeCursor(encodeCursor(['a', 'b']))).toEqual(['a', 'b'])
    expect(decodeSeqCursor({ limit: 1, cursor: Buffer.from('42').toString('base64url') })).toBe(42)
    expect(decodeSeqCursor({ limit: 1, cursor: '' })).toBeUndefined()
  })

  it('refuse what no page handed out', () => {
    expect(() => decodeCursor('not-a-cursor')).toThrow('cursor: not a cursor from a previous page')
    expect(() => decodeCursor(encodeCursor(['only one']))).toThrow('cursor: not a cursor from a previous page')
    expect(() => decodeSeqCursor({ limit: 1, cursor: Buffer.from('x').toString('base64url') })).toThrow('cursor: not a cursor from a previous page')
    expect(() => pageOfList(['a'], (x) => x, { limit: 1, cursor: 'bm9wZQ' })).toThrow('cursor: not a cursor from a previous page')
  })
})

describe('pageOfList', () => {
  const items = ['a', 'b', 'c', 'd', 'e']
  const all = (cursor?: string): string[] => {
    const page = pageOfList(items, (x) => x, { limit: 2, cursor })
    return page.next_cursor ? [...page.items, ...all(page.next_cursor)] : page.items
  }

  it('walks the list in pages, and goes on after an item deleted since', () => {
    expect(all()).toEqual(items)
    const after = Buffer.from(JSON.stringify({ after: 'bb' })).toString('base64url')
    expect(pageOfList(items, (x) => x, { limit: 2, cursor: after })).toEqual({
      items: ['c', 'd'],
      next_cursor: Buffer.from(JSON.stringify({ after: 'd' })).toString('base64url'),
    })
  })
})

describe.each(DIALECTS)('keyset pages on %s', (dialect) => {
  it('newest first, ties by id, each row once', async () => {
    const env = await createTestEnv(dialect)
    try {
      const db = env.app.handle.db
      const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z']
      for (let i = 0; i < 7; i++) {
        await db
          .insertInto('events')
          .values({
            store_id: 'default',
            id: `e${i}`,
            type: 't',
            occurred_at: times[i % 2]!,
            received_at: times[i % 2]!,
            customer_key: null,
            historical: 0,
            source: 'api',
            data: '{}',
          })
          .execute()
      }
      const query = () => db.selectFrom('events').selectAll().where('store_id', '=', 'default')
      const byTime: string[] = []
      let cursor: string | undefined
      do {
        const page: { items: Array<{ id: string }>; next_cursor: string | null } = await newestFirst(
          query(),
          { time: 'received_at', id: 'id' },
          { limit: 2, cursor },
        )
        byTime.push(...page.items.map((r) => r.id))
        cursor = page.next_cursor ?? undefined
      } while (cursor)
      expect(byTime).toEqual(['e5', 'e3', 'e1', 'e6', 'e4', 'e2', 'e0'])

      const bySeq: string[] = []
      cursor = undefined
      do {
        const page: { items: Array<{ id: string }>; next_cursor: string | null } = await newestFirstBySeq(query(), decodeSeqCursor({ limit: 3, cursor }), 3)
        bySeq.push(...page.items.map((r) => r.id))
        cursor = page.next_cursor ?? undefined
      } while (cursor)
      expect(bySeq).toEqual(['e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0'])
    } finally {
      await env.cleanup()
    }
  })
})
