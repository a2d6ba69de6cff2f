import { routerBacklog } from './event-log.repo.ts'
import type { Kysely } from 'kysely'
import type { Database } from './tables.ts'

/** What GET /metrics reports from the database: runs by status, runs due, events stored. */
export interface StoredCounts {
  runsByStatus: Array<{ status: string; count: number }>
  runsDue: number
  events: number
  /** accepted and not routed yet: the routers' lag, in events */
  eventsUnrouted: number
}

export async function storedCounts(db: Kysely<Database>, now: Date): Promise<StoredCounts> {
  const byStatus = await db
    .selectFrom('runs')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute()
  const due = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('due_at', '<=', now.toISOString())
    .executeTakeFirstOrThrow()
  const events = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return {
    runsByStatus: byStatus.map((row) => ({ status: row.status, count: Number(row.n) })),
    runsDue: Number(due.n),
    events: Number(events.n),
    eventsUnrouted: await routerBacklog(db),
  }
}
