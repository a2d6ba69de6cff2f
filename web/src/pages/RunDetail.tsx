import { useRun, useRunAction } from '../api/hooks.ts'
import { ErrorNote } from '../components/ErrorNote.tsx'
import { Json } from '../components/Json.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { Time } from '../components/Time.tsx'
import { Link } from '../router.tsx'

/** One run: its facts, then each step in order with its attempts, times, input, output and error. */
export function RunDetailPage({ id }: { id: string }) {
  const run = useRun(id)
  const action = useRunAction()
  const r = run.data
  return (
    <section aria-labelledby="run-heading">
      <p>
        <Link to="/runs">← Runs</Link>
      </p>
      <h1 id="run-heading">
        Run <span className="mono">{id}</span>
      </h1>
      <ErrorNote error={run.error ?? action.error} />
      {run.isPending ? <p>Loading…</p> : null}
      {r ? (
        <>
          <dl className="facts-grid">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={r.status} />
              {r.holdout ? <span className="muted"> (holdout)</span> : null}
            </dd>
            <dt>Workflow</dt>
            <dd>
              <Link to={`/workflows/${encodeURIComponent(r.workflow_id)}`}>{r.workflow_id}</Link> v{r.workflow_version}
            </dd>
            <dt>Customer</dt>
            <dd>
              {r.customer_email ?? '—'} {r.customer_id ? <span className="muted mono">({r.customer_id})</span> : null}
            </dd>
            <dt>Trigger event</dt>
            <dd className="mono">{r.trigger_event_id ?? '—'}</dd>
            <dt>Started</dt>
            <dd>
              <Time value={r.started_at} />
            </dd>
            <dt>Ended</dt>
            <dd>
              <Time value={r.ended_at} />
            </dd>
            {r.wake_at ? (
              <>
                <dt>Wakes</dt>
                <dd>
                  <Time value={r.wake_at} />
                </dd>
              </>
            ) : null}
          </dl>
          <p className="actions">
            {r.status === 'failed' ? (
              <button type="button" onClick={() => action.mutate({ id: r.id, action: 'retry' })} disabled={action.isPending}>
                Retry from the failed step
              </button>
            ) : null}
            {r.status === 'running' || r.status === 'waiting' ? (
              <button type="button" className="danger" onClick={() => action.mutate({ id: r.id, action: 'cancel' })} disabled={action.isPending}>
                Cancel run
              </button>
            ) : null}
          </p>
          <h2>Timeline</h2>
          {r.steps.length === 0 ? <p>No step has run yet.</p> : null}
          <ol className="timeline">
            {r.steps.map((s) => (
              <li key={`${s.id}|${s.key ?? ''}|${s.started_at ?? ''}`} className={`timeline-step step-status-${s.status}`}>
                <div className="timeline-head">
                  <strong className="mono">{s.id}</strong> <span className="muted">{s.type}</span> <StatusBadge status={s.status} />
                  {s.attempts > 1 ? <span className="muted"> {s.attempts} attempts</span> : null}
                </div>
                <div className="timeline-times">
                  <span>
                    started <Time value={s.started_at} />
                  </span>
                  {s.ended_at ? (
                    <span>
                      {' '}
                      · ended <Time value={s.ended_at} />
                    </span>
                  ) : null}
                  {s.wake_at ? (
                    <span>
                      {' '}
                      · wakes <Time value={s.wake_at} />
                    </span>
                  ) : null}
                </div>
                {s.error ? (
                  <p className="error">
                    <strong>Error: </strong>
                    {s.error}
                  </p>
                ) : null}
                <Json label="Input" value={s.input} />
                <Json label="Output" value={s.output} />
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  )
}
