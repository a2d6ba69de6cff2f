import { readdirSync, readFileSync } from 'node:fs'

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
 * CPU used so far by every process named `postgres` on this machine (the server and its
 * backends), ms; NaN when there is none to see (PostgreSQL on another host). Backends that exit
 * between two readings take their time with them: compare readings around a window in which
 * the connections stay open.
 */
export function postgresCpuMs(): number {
  let total = 0
  let found = false
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'postgres') continue
    } catch {
      continue
    }
    const ms = processCpuMs(Number(name))
    if (Number.isNaN(ms)) continue
    total += ms
    found = true
  }
  return found ? total : Number.NaN
}

/** CPU of this process so far, ms. */
export function ownCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
