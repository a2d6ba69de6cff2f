import { useState } from 'react'
import { useInstallTemplate, useSetWorkflowActive, useTemplates, useWorkflows } from '../api/hooks.ts'
import { type Overview, type Range, useOverview, useWorkflowInsight } from '../api/insight-hooks.ts'
import type { WorkflowSummary } from '../api/types.ts'
import { ErrorNote } from '../components/ErrorNote.tsx'
import { Time } from '../components/Time.tsx'
import { Link } from '../router.tsx'
import { count, initialRange, money, percent } from './insight/common.tsx'

export function triggerText(trigger: WorkflowSummary['trigger'] | Record<string, unknown>): string {
  if ('event' in trigger && typeof trigger.event === 'string') return trigger.event
  if ('cron' in trigger && typeof trigger.cron === 'string')
    return `schedule ${trigger.cron}${typeof trigger.timezone === 'string' ? ` (${trigger.timezone})` : ''}`
  return JSON.stringify(trigger)
}

export function WorkflowsPage() {
  const workflows = useWorkflows()
  const setActive = useSetWorkflowActive()
  // the last 30 days' figures beside each workflow (GET /api/v1/analytics/overview)
  const [range] = useState<Range>(() => initialRange(new URLSearchParams()))
  const overview = useOverview(range)
  const figures = new Map((overview.data?.workflows ?? []).map((f) => [f.id, f]))
  return (
    <>
      <section aria-labelledby="workflows-heading">
        <h1 id="workflows-heading">Workflows</h1>
        <ErrorNote error={workflows.error ?? setActive.error} />
        {workflows.isPending ? <p>Loading…</p> : null}
        {workflows.data && workflows.data.items.length === 0 ? <p>No workflows yet. Install one from the templates below.</p> : null}
        {workflows.data && workflows.data.items.length > 0 ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Version</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Runs (30 d)</th>
                  <th scope="col">Sent (30 d)</th>
                  <th scope="col">Revenue (30 d)</th>
                  <th scope="col">Lift</th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {workflows.data.items.map((w) => (
                  <tr key={w.id}>
                    <td>
                      <Link to={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link>
                      <div className="muted mono">{w.id}</div>
                    </td>
                    <td>
                      <span className={`badge badge-${w.active ? 'active' : 'inactive'}`}>{w.active ? 'active' : 'inactive'}</span>
                    </td>
                    <td>v{w.version}</td>
                    <td className="mono">{triggerText(w.trigger)}</td>
                    <FigureCells figures={figures.get(w.id)} currency={overview.data?.currency} />
                    <td>{w.active ? <LiftCell id={w.id} range={range} /> : <span className="muted">—</span>}</td>
                    <td>
                      <Time value={w.updated_at} />
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        disabled={setActive.isPending}
                        onClick={() => setActive.mutate({ id: w.id, active: !w.active })}
                        aria-label={`${w.active ? 'Deactivate' : 'Activate'} ${w.name}`}
                      >
                        {w.active ? 'Deactivate' : 'Activate'}
                      </button>
                      <Link to={`/runs?workflow=${encodeURIComponent(w.id)}`}>Runs</Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <TemplateGallery installed={new Set(workflows.data?.items.map((w) => w.id) ?? [])} />
    </>
  )
}

function FigureCells({ figures, currency }: { figures: Overview['workflows'][number] | undefined; currency: string | undefined }) {
  if (!figures || !currency)
    return (
      <>
        <td className="muted">—</td>
        <td className="muted">—</td>
        <td className="muted">—</td>
      </>
    )
  return (
    <>
      <td>{count(figures.runs)}</td>
      <td>{count(figures.sent)}</td>
      <td>{money(figures.revenue_attributed, currency)}</td>
    </>
  )
}

/** The holdout lift of an active workflow over the range, with its interval; "—" without a holdout. */
function LiftCell({ id, range }: { id: string; range: Range }) {
  const report = useWorkflowInsight(id, range)
  const holdout = report.data?.holdout
  if (!holdout) return <span className="muted">—</span>
  if (!holdout.enough_data || holdout.lift === null) return <span className="muted">not enough data</span>
  return (
    <span>
      {percent(holdout.lift)}
      {holdout.ci95 ? (
        <span className="muted">
          {' '}
          (95%: {percent(holdout.ci95[0])} to {percent(holdout.ci95[1])})
        </span>
      ) : null}
    </span>
  )
}

function TemplateGallery({ installed }: { installed: Set<string> }) {
  const templates = useTemplates()
  const install = useInstallTemplate()
  return (
    <section aria-labelledby="templates-heading">
      <h2 id="templates-heading">Templates</h2>
      <ErrorNote error={templates.error ?? install.error} />
      {templates.data === null ? (
        <p className="muted">
          This server lists no templates over HTTP; install one with <code>storeflow templates install NAME</code>.
        </p>
      ) : null}
      {templates.data ? (
        <ul className="cards">
          {templates.data.items.map((t) => (
            <li key={t.name} className="card">
              <h3>{t.title}</h3>
              <p className="muted mono">{triggerText(t.trigger)}</p>
              <p>{t.description}</p>
              {installed.has(t.name) ? (
                <p>
                  <Link to={`/workflows/${encodeURIComponent(t.name)}`}>Installed: open</Link>
                </p>
              ) : t.installable ? (
                <button type="button" onClick={() => install.mutate(t.name)} disabled={install.isPending} aria-label={`Install ${t.title}`}>
                  Install
                </button>
              ) : (
                <p className="muted">{t.reason}</p>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  )
}
