import { type FormEvent, useState } from 'react'
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { ApiError } from '../../api/client.ts'
import type { DailyFigures, Range } from '../../api/insight-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'

const day = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`

/** The last 30 days, today included (the server's default too), or the range in the address. */
export function initialRange(search: URLSearchParams): Range {
  const today = new Date()
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29)
  return { from: search.get('from') || day(from), to: search.get('to') || day(today) }
}

export const count = (n: number) => n.toLocaleString('en-US')
export const money = (n: number, currency: string) => {
  try {
    return n.toLocaleString('en-US', { style: 'currency', currency })
  } catch {
    return `${n.toFixed(2)} ${currency}`
  }
}
export const percent = (x: number) => `${(x * 100).toFixed(1)}%`

/** The from/to inputs; an answer of 400 naming `from` or `to` is shown next to that field. */
export function RangePicker({ range, onChange, error }: { range: Range; onChange: (r: Range) => void; error: unknown }) {
  const [draft, setDraft] = useState(range)
  const field = error instanceof ApiError ? error.field : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    onChange(draft)
  }
  return (
    <form className="filters" onSubmit={submit} aria-label="Date range">
      {(['from', 'to'] as const).map((name) => (
        <span key={name}>
          <label htmlFor={`range-${name}`}>{name === 'from' ? 'From' : 'To'}</label>{' '}
          <input
            id={`range-${name}`}
            type="date"
            value={draft[name]}
            onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
            aria-invalid={field === name || undefined}
            aria-describedby={field === name ? `range-${name}-error` : undefined}
          />
          {field === name ? (
            <span id={`range-${name}-error`} className="error" role="alert">
              {error instanceof Error ? error.message : String(error)}
            </span>
          ) : null}
        </span>
      ))}
      <button type="submit">Show</button>
      {error && field !== 'from' && field !== 'to' ? <ErrorNote error={error} /> : null}
    </form>
  )
}

/** Runs and messages sent per day (bars) and attributed revenue (line, right axis). */
export function DailyChart({ daily, currency, caption }: { daily: DailyFigures[]; currency: string; caption: string }) {
  if (daily.length === 0) return null
  return (
    <figure className="chart">
      <figcaption>{caption}</figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <ComposedChart data={daily} accessibilityLayer>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="date" />
          <YAxis yAxisId="count" allowDecimals={false} />
          <YAxis yAxisId="money" orientation="right" />
          <Tooltip />
          <Legend />
          <Bar yAxisId="count" dataKey="runs" name="Runs" fill="#1d4ed8" isAnimationActive={false} maxBarSize={24} />
          <Bar yAxisId="count" dataKey="sent" name="Sent" fill="#15803d" isAnimationActive={false} maxBarSize={24} />
          <Line yAxisId="money" dataKey="revenue" name={`Revenue (${currency})`} stroke="#b45309" dot={false} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  )
}
