import { useState } from 'react'
import { type HoldoutReport, type Range, useWorkflowInsight, type WorkflowInsight } from '../../api/insight-hooks.ts'
import { Link, navigate, useLocation } from '../../router.tsx'
import { BacktestPanel } from './Backtest.tsx'
import { count, DailyChart, initialRange, money, percent, RangePicker } from './common.tsx'

/** One workflow's figures over a range: totals, per step, per day, its holdout and its A/B split. */
export function WorkflowInsightPage({ id }: { id: string }) {
  const { search } = useLocation()
  const [range, setRange] = useState<Range>(() => initialRange(search))
  const insight = useWorkflowInsight(id, range)
  const change = (r: Range) => {
    setRange(r)
    navigate(`/insight/workflows/${encodeURIComponent(id)}?from=${encodeURIComponent(r.from)}&to=${encodeURIComponent(r.to)}`, { replace: true })
  }
  const w = insight.data
  return (
    <section>
      <p>
        <Link to="/insight">← Insight</Link>
      </p>
      <h1>{w ? w.workflow.name : id}</h1>
      <RangePicker range={range} onChange={change} error={insight.error} />
      {insight.isPending ? <p className="loading">Loading…</p> : null}
      {w ? <Figures w={w} /> : null}
      <BacktestPanel workflowId={id} />
    </section>
  )
}

function Figures({ w }: { w: WorkflowInsight }) {
  return (
    <>
      <dl className="facts-grid" aria-label="Workflow totals">
        <dt>Period</dt>
        <dd>
          {w.from} – {w.to}
        </dd>
        <dt>Runs started</dt>
        <dd data-testid="wf-runs">{count(w.runs.started)}</dd>
        <dt>Runs completed / exited / failed</dt>
        <dd>
          {count(w.runs.completed)} / {count(w.runs.exited)} / {count(w.runs.failed)}
        </dd>
        <dt>Messages sent</dt>
        <dd data-testid="wf-sent">{count(w.messages.sent)}</dd>
        <dt>Orders attributed</dt>
        <dd data-testid="wf-orders">{count(w.orders_attributed)}</dd>
        <dt>Revenue attributed</dt>
        <dd data-testid="wf-revenue">{money(w.revenue_attributed, w.currency)}</dd>
        <dt>Attribution window</dt>
        <dd>{w.attribution_window}</dd>
      </dl>
      <DailyChart daily={w.daily} currency={w.currency} caption="Runs, messages sent and attributed revenue per day" />
      <h2 id="steps-heading">Steps</h2>
      {w.steps.length === 0 ? (
        <p className="muted">No step sent anything in this period.</p>
      ) : (
        <div className="table-wrap">
          <table aria-labelledby="steps-heading">
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Sent</th>
                <th scope="col">Delivered</th>
                <th scope="col">Opened</th>
                <th scope="col">Clicked</th>
                <th scope="col">Unsubscribed</th>
                <th scope="col">Bounced</th>
                <th scope="col">Orders</th>
                <th scope="col">Revenue</th>
              </tr>
            </thead>
            <tbody>
              {w.steps.map((s) => (
                <tr key={s.id}>
                  <td className="mono">{s.id}</td>
                  <td>{count(s.sent)}</td>
                  <td>{count(s.delivered)}</td>
                  <td>{count(s.opened)}</td>
                  <td>{count(s.clicked)}</td>
                  <td>{count(s.unsubscribed)}</td>
                  <td>{count(s.bounced)}</td>
                  <td>{count(s.orders_attributed)}</td>
                  <td>{money(s.revenue_attributed, w.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Holdout h={w.holdout} currency={w.currency} />
      <Split w={w} />
    </>
  )
}

function Holdout({ h, currency }: { h: HoldoutReport | null; currency: string }) {
  return (
    <section aria-labelledby="holdout-heading">
      <h2 id="holdout-heading">Holdout</h2>
      {!h ? (
        <p className="muted">This workflow has no holdout group.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table aria-labelledby="holdout-heading">
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Customers</th>
                  <th scope="col">Conversion</th>
                  <th scope="col">Revenue per customer</th>
                </tr>
              </thead>
              <tbody>
                {(['treated', 'control'] as const).map((g) => (
                  <tr key={g}>
                    <th scope="row">{g === 'treated' ? 'Treated' : 'Control (held out)'}</th>
                    <td>{count(h[g].customers)}</td>
                    <td>{percent(h[g].conversion)}</td>
                    <td>{money(h[g].revenue_per_customer, currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {h.enough_data && h.lift !== null ? (
            <p data-testid="holdout-verdict">
              Lift in revenue per customer: <strong>{percent(h.lift)}</strong>
              {h.ci95 ? ` (95% interval ${percent(h.ci95[0])} to ${percent(h.ci95[1])})` : ''}
            </p>
          ) : (
            <p data-testid="holdout-verdict">
              Not enough data yet
              {h.sample_needed !== null ? `: about ${count(h.sample_needed)} customers needed in each group.` : '.'}
            </p>
          )}
        </>
      )}
    </section>
  )
}

function Split({ w }: { w: WorkflowInsight }) {
  const split = w.split
  return (
    <section aria-labelledby="split-heading">
      <h2 id="split-heading">A/B split</h2>
      {!split || !w.variants ? (
        <p className="muted">This workflow has no split.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table aria-labelledby="split-heading">
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col">Customers</th>
                  <th scope="col">Conversion</th>
                  <th scope="col">Revenue per customer</th>
                  <th scope="col">Revenue</th>
                </tr>
              </thead>
              <tbody>
                {w.variants.map((v) => (
                  <tr key={v.id}>
                    <th scope="row" className="mono">
                      {v.id}
                      {v.id === split.leader ? ' (leader)' : ''}
                    </th>
                    <td>{count(v.customers)}</td>
                    <td>{percent(v.conversion)}</td>
                    <td>{money(v.revenue_per_customer, w.currency)}</td>
                    <td>{money(v.revenue, w.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p data-testid="split-verdict">
            {split.winner !== null ? (
              <>
                Winner: <strong className="mono">{split.winner}</strong>
              </>
            ) : (
              <>
                No winner yet
                {split.sample_needed_per_variant !== null ? `: about ${count(split.sample_needed_per_variant)} customers needed per variant.` : '.'}
              </>
            )}
          </p>
        </>
      )}
    </section>
  )
}
