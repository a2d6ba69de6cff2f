import { lazy, Suspense } from 'react'
import { useSetWorkflowActive, useWorkflow, useWorkflowYaml } from '../api/hooks.ts'
import { ErrorNote } from '../components/ErrorNote.tsx'
import { ScrollText } from '../components/ScrollText.tsx'
import { Link } from '../router.tsx'
import { triggerText } from './Workflows.tsx'

// React Flow is most of the dashboard's weight: loaded when a workflow is first opened
const WorkflowGraph = lazy(() => import('../components/WorkflowGraph.tsx').then((m) => ({ default: m.WorkflowGraph })))

export function WorkflowDetailPage({ id }: { id: string }) {
  const workflow = useWorkflow(id)
  const yaml = useWorkflowYaml(id)
  const setActive = useSetWorkflowActive()
  const w = workflow.data
  return (
    <section aria-labelledby="workflow-heading">
      <p>
        <Link to="/workflows">← Workflows</Link>
      </p>
      <h1 id="workflow-heading">{w ? w.name : id}</h1>
      <ErrorNote error={workflow.error ?? setActive.error} />
      {w ? (
        <>
          <p className="facts">
            <span className={`badge badge-${w.active ? 'active' : 'inactive'}`}>{w.active ? 'active' : 'inactive'}</span>
            <span>version {w.version}</span>
            <span className="mono">{triggerText(w.trigger)}</span>
            <button type="button" onClick={() => setActive.mutate({ id: w.id, active: !w.active })} disabled={setActive.isPending}>
              {w.active ? 'Deactivate' : 'Activate'}
            </button>
            <Link to={`/workflows/${encodeURIComponent(w.id)}/edit`}>Edit</Link>
            <Link to={`/runs?workflow=${encodeURIComponent(w.id)}`}>Runs of this workflow</Link>
          </p>
          {w.definition.description ? <p>{w.definition.description}</p> : null}
          <div className="split-view">
            <Suspense fallback={<p className="graph">Loading the graph…</p>}>
              <WorkflowGraph steps={w.definition.steps} trigger={triggerText(w.trigger)} />
            </Suspense>
            <section className="yaml" aria-labelledby="yaml-heading">
              <h2 id="yaml-heading">YAML</h2>
              <ErrorNote error={yaml.error} />
              <ScrollText label="The workflow as YAML">{yaml.data ?? w.source}</ScrollText>
            </section>
          </div>
        </>
      ) : workflow.isPending ? (
        <p>Loading…</p>
      ) : null}
    </section>
  )
}
