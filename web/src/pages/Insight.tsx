import { useState } from 'react'
import { type Range, useOverview } from '../api/insight-hooks.ts'
import { Link, navigate, useLocation } from '../router.tsx'
import { count, DailyChart, initialRange, money, RangePicker } from './insight/common.tsx'

/** Insight: the store's totals over a range of days, per day, and per workflow (docs/insight.md). */
export function InsightPage() {
  const { search } = useLocation()
  const [range, setRange] = useState<Range>(() => initialRange(search))
  const overview = useOverview(range)
  const change = (r: Range) => {
    setRange(r)
    navigate(`/insight?from=${encodeURIComponent(r.from)}&to=${encodeURIComponent(r.to)}`, { replace: true })
  }
  const o = overview.data
  return (
    <section>
      <h1>Insight</h1>
      <RangePicker range={range} onChange={change} error={overview.error} />
      {overview.isPending ? <p className="loading">Loading…</p> : null}
      {o ? (
        <>
          <dl className="facts-grid" aria-label="Store totals">
            <dt>Period</dt>
            <dd>
              {o.from} – {o.to}
            </dd>
            <dt>Runs started</dt>
            <dd data-testid="total-runs">{count(o.runs.started)}</dd>
            <dt>Messages sent</dt>
            <dd data-testid="total-sent">{count(o.messages.sent)}</dd>
            <dt>Orders attributed</dt>
            <dd data-testid="total-orders">{count(o.orders_attributed)}</dd>
            <dt>Revenue attributed</dt>
            <dd data-testid="total-revenue">{money(o.revenue_attributed, o.currency)}</dd>
          </dl>
          <DailyChart daily={o.daily} currency={o.currency} caption="Runs, messages sent and attributed revenue per day" />
          <h2 id="insight-workflows">Workflows</h2>
          {o.workflows.length === 0 ? (
            <p className="muted">No workflow ran in this period.</p>
          ) : (
            <div className="table-wrap">
              <table aria-labelledby="insight-workflows">
                <thead>
                  <tr>
                    <th scope="col">Workflow</th>
                    <th scope="col">Runs</th>
                    <th scope="col">Sent</th>
                    <th scope="col">Orders attributed</th>
                    <th scope="col">Revenue attributed</th>
                  </tr>
                </thead>
                <tbody>
                  {o.workflows.map((w) => (
                    <tr key={w.id}>
                      <td>
                        <Link to={`/insight/workflows/${encodeURIComponent(w.id)}?from=${encodeURIComponent(o.from)}&to=${encodeURIComponent(o.to)}`}>
                          {w.name}
                        </Link>
                        <div className="muted mono">{w.id}</div>
                      </td>
                      <td>{count(w.runs)}</td>
                      <td>{count(w.sent)}</td>
                      <td>{count(w.orders_attributed)}</td>
                      <td>{money(w.revenue_attributed, o.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : null}
    </section>
  )
}
