import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { RUN_STATUSES, type Run } from '../api/types.ts'

const COLOURS: Record<string, string> = {
  running: '#1d4ed8',
  waiting: '#7c3aed',
  completed: '#15803d',
  exited: '#57534e',
  failed: '#b91c1c',
  cancelled: '#a16207',
}

/** Runs started per day, stacked by status, for the runs on screen. The table below has the same numbers. */
export function RunsChart({ runs }: { runs: Run[] }) {
  const byDay = new Map<string, Record<string, number | string>>()
  for (const run of runs) {
    const day = run.started_at.slice(0, 10)
    const row = byDay.get(day) ?? { day }
    row[run.status] = ((row[run.status] as number | undefined) ?? 0) + 1
    byDay.set(day, row)
  }
  const data = [...byDay.values()].sort((a, b) => String(a.day).localeCompare(String(b.day)))
  if (data.length === 0) return null
  const present = RUN_STATUSES.filter((s) => runs.some((r) => r.status === s))
  return (
    <figure className="chart">
      <figcaption>Runs started per day, by status (the {runs.length} newest)</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={data} accessibilityLayer>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          {present.map((s) => (
            <Bar key={s} dataKey={s} stackId="status" fill={COLOURS[s]} isAnimationActive={false} maxBarSize={48} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  )
}
