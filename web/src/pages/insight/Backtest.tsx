import { type FormEvent, useState } from 'react'
import { ApiError } from '../../api/client.ts'
import { useBacktest } from '../../api/insight-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { count, money } from './common.tsx'

/** Replays the store's stored events of a period through the workflow: nothing stored, nothing sent. */
export function BacktestPanel({ workflowId }: { workflowId: string }) {
  const [since, setSince] = useState('90d')
  const backtest = useBacktest(workflowId)
  const field = backtest.error instanceof ApiError ? backtest.error.field : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    backtest.mutate(since)
  }
  const r = backtest.data
  return (
    <section aria-labelledby="backtest-heading">
      <h2 id="backtest-heading">Backtest</h2>
      <p className="muted">What this workflow would have done over the store's past events. Nothing is stored or sent.</p>
      <form className="filters" onSubmit={submit}>
        <label htmlFor="backtest-since">Since</label>
        <input
          id="backtest-since"
          value={since}
          onChange={(e) => setSince(e.target.value)}
          aria-invalid={field === 'since' || undefined}
          aria-describedby="backtest-since-hint"
        />
        <span id="backtest-since-hint" className="muted">
          a duration like 90d, or a date
        </span>
        <button type="submit" disabled={backtest.isPending}>
          Run
        </button>
        {backtest.isPending ? (
          <span role="status">
            <progress aria-label="Backtest running" /> Running…
          </span>
        ) : null}
      </form>
      {backtest.error ? <ErrorNote error={backtest.error} /> : null}
      {r && !backtest.isPending ? (
        <div className="table-wrap">
          <table aria-label="Backtest report">
            <tbody>
              <tr>
                <th scope="row">Period</th>
                <td>
                  {r.from} – {r.to}
                </td>
              </tr>
              <tr>
                <th scope="row">Runs</th>
                <td data-testid="backtest-runs">{count(r.runs)}</td>
              </tr>
              <tr>
                <th scope="row">Runs by status</th>
                <td>{entries(r.runs_by_status)}</td>
              </tr>
              <tr>
                <th scope="row">Holdout runs</th>
                <td>{count(r.holdout_runs)}</td>
              </tr>
              <tr>
                <th scope="row">Messages by step</th>
                <td>{entries(r.messages_by_step)}</td>
              </tr>
              <tr>
                <th scope="row">Messages in all</th>
                <td>{count(r.messages_total)}</td>
              </tr>
              <tr>
                <th scope="row">Discount codes</th>
                <td>{count(r.discount_codes)}</td>
              </tr>
              <tr>
                <th scope="row">Discount value</th>
                <td>{money(r.discount_value, r.currency)}</td>
              </tr>
              <tr>
                <th scope="row">Estimated revenue attributed</th>
                <td>
                  {money(r.revenue_attributed_estimate, r.currency)} ({count(r.orders_attributed)} orders)
                </td>
              </tr>
              <tr>
                <th scope="row">Customers over the frequency cap</th>
                <td>{count(r.customers_over_cap)}</td>
              </tr>
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  )
}

function entries(record: Record<string, number>) {
  const list = Object.entries(record)
  if (list.length === 0) return <span className="muted">none</span>
  return (
    <ul>
      {list.map(([k, v]) => (
        <li key={k}>
          <span className="mono">{k}</span>: {count(v)}
        </li>
      ))}
    </ul>
  )
}
