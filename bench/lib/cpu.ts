import { readFileSync } from 'node:fs'
import pg from 'pg'

/** Linux's USER_HZ: /proc reports CPU time in these ticks */
const CLOCK_TICKS = 100

/** user + system CPU a process used so far, ms (Linux /proc; NaN where it cannot be read). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the fields after the command name (which may hold spaces) start after its ")"
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}

/**
 * CPU used so far by the PostgreSQL backends serving connections named `application` (the
 * bench's own, not other users of the same server), ms; NaN when they cannot be seen (PostgreSQL
 * on another host). The server's shared processes (WAL writer, checkpointer) are not in it, and a
 * backend that exits takes its time with it: compare readings around a window in which the
 * connections stay open.
 */
export async function postgresCpuMs(url: string, application: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [application])
    let total = 0
    for (const { pid } of rows) total += processCpuMs(pid)
    return rows.length > 0 ? total : Number.NaN
  } catch {
    return Number.NaN
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** CPU of this process so far, ms. */
export function ownCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
