import { type FormEvent, lazy, Suspense, useId } from 'react'
import { useRuns, useWorkflows } from '../api/hooks.ts'
import { RUN_STATUSES } from '../api/types.ts'
import { ErrorNote } from '../components/ErrorNote.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { Time } from '../components/Time.tsx'
import { Link, navigate, useLocation } from '../router.tsx'
import { ShowMore } from '../components/ShowMore.tsx'

// the charts library loads with the first chart, not with the sign-in page
const RunsChart = lazy(() => import('../components/RunsChart.tsx').then((m) => ({ default: m.RunsChart })))

/** Runs, newest first, filtered by workflow, status and customer (kept in the URL), refreshed live. */
export function RunsPage() {
  const { search } = useLocation()
  const filter = {
    workflow: search.get('workflow') ?? undefined,
    status: search.get('status') ?? undefined,
    customer: search.get('customer') ?? undefined,
  }
  const runs = useRuns(filter)
  const workflows = useWorkflows()
  const ids = { workflow: useId(), status: useId(), customer: useId() }

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const next = new URLSearchParams()
    for (const name of ['workflow', 'status', 'customer']) {
      const value = String(form.get(name) ?? '').trim()
      if (value) next.set(name, value)
    }
    const qs = next.toString()
    navigate(`/runs${qs ? `?${qs}` : ''}`)
  }

  return (
    <section aria-labelledby="runs-heading">
      <h1 id="runs-heading">Runs</h1>
      <form className="filters" onSubmit={apply} key={search.toString()}>
        <label htmlFor={ids.workflow}>Workflow</label>
        <select id={ids.workflow} name="workflow" defaultValue={filter.workflow ?? ''}>
          <option value="">All</option>
          {workflows.data?.items.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
        <label htmlFor={ids.status}>Status</label>
        <select id={ids.status} name="status" defaultValue={filter.status ?? ''}>
          <option value="">All</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label htmlFor={ids.customer}>Customer</label>
        <input id={ids.customer} name="customer" defaultValue={filter.customer ?? ''} placeholder="shop customer id" />
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={runs.error} />
      <p className="live" aria-live="polite">
        {runs.data
          ? `${runs.data.items.length} ${runs.data.items.length === 1 ? 'run' : 'runs'}${runs.data.next_cursor ? ' (the newest)' : ''}, updated live`
          : runs.isPending
            ? 'Loading…'
            : ''}
      </p>
      {runs.data ? (
        <Suspense fallback={null}>
          <RunsChart runs={runs.data.items} />
        </Suspense>
      ) : null}
      {runs.data && runs.data.items.length === 0 ? <p>No runs match.</p> : null}
      {runs.data && runs.data.items.length > 0 ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Workflow</th>
                <th scope="col">Status</th>
                <th scope="col">Customer</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.items.map((r) => (
                <tr key={r.id}>
                  <td className="mono">
                    <Link to={`/runs/${encodeURIComponent(r.id)}`}>{r.id}</Link>
                  </td>
                  <td>
                    {r.workflow_id} <span className="muted">v{r.workflow_version}</span>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.customer_email ?? r.customer_id ?? <span className="muted">—</span>}</td>
                  <td>
                    <Time value={r.started_at} />
                  </td>
                  <td>
                    <Time value={r.ended_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ShowMore list={runs} noun="runs" />
    </section>
  )
}
