import { Component, lazy, type ReactNode, Suspense, useEffect, useId, useMemo, useState } from 'react'
import { parseDocument } from 'yaml'
import type { StepSpec } from '../../../src/contracts/workflow.ts'
import { type Problem, useActions, useSaveWorkflow, useSetActive, validateWorkflow } from '../api/editor-hooks.ts'
import { useWorkflow } from '../api/hooks.ts'
import { CHECK_DELAY_MS } from '../components/editor/CheckedField.tsx'
import { StepForm, WorkflowForm } from '../components/editor/StepForm.tsx'
import { TestPanel } from '../components/editor/TestPanel.tsx'
import { VersionHistory } from '../components/editor/VersionHistory.tsx'
import { ErrorNote } from '../components/ErrorNote.tsx'
import { deleteStep, getAt, insertStep, kindOf, moveStep, moveStepTo, sameList, setAt, stepPaths, type YamlPath } from '../lib/workflow-doc.ts'
import { Link } from '../router.tsx'
import { triggerText } from './Workflows.tsx'
import './workflow-editor.css'

const EditableGraph = lazy(() => import('../components/editor/EditableGraph.tsx').then((m) => ({ default: m.EditableGraph })))

/** A graph that cannot be drawn from a half-typed file says so instead of taking the page down. */
class GraphBoundary extends Component<{ children: ReactNode; source: string }, { failed: boolean; source: string }> {
  state = { failed: false, source: this.props.source }
  static getDerivedStateFromError() {
    return { failed: true }
  }
  static getDerivedStateFromProps(props: { source: string }, state: { failed: boolean; source: string }) {
    return props.source !== state.source ? { failed: false, source: props.source } : null
  }
  render() {
    return this.state.failed ? <p className="graph muted">The graph cannot be drawn until the YAML is fixed.</p> : this.props.children
  }
}

const samePath = (a: YamlPath | null, b: YamlPath | null) => a !== null && b !== null && a.length === b.length && a.every((p, i) => p === b[i])

/** Reads the text as YAML here, at once: the graph and the forms follow every keystroke. */
function readLocally(source: string): Record<string, unknown> | null {
  const doc = parseDocument(source)
  if (doc.errors.length > 0) return null
  const js = doc.toJS() as unknown
  return js && typeof js === 'object' && !Array.isArray(js) ? (js as Record<string, unknown>) : null
}

function stepTitle(step: unknown): string {
  const s = (step ?? {}) as Record<string, unknown>
  const kind = kindOf(step)
  const detail =
    kind === 'action'
      ? String(s.name ?? s.action)
      : kind === 'wait'
        ? typeof s.wait === 'string'
          ? s.wait
          : 'until'
        : kind === 'if'
          ? String(s.if ?? '')
          : kind === 'exit'
            ? 'exit'
            : ''
  return `${kind}${s.id ? ` ${String(s.id)}` : ''}: ${detail}`
}

export function WorkflowEditorPage({ id }: { id: string }) {
  const workflow = useWorkflow(id)
  const actions = useActions()
  const save = useSaveWorkflow(id)
  const setActive = useSetActive(id)
  const w = workflow.data
  const [source, setSource] = useState<string | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  const [selected, setSelected] = useState<YamlPath | null>(null)
  const [problems, setProblems] = useState<Problem[]>([])
  const [newKind, setNewKind] = useState('wait')
  const [notice, setNotice] = useState<string | null>(null)
  const yamlId = useId()
  const addId = useId()

  // the saved text once loaded; later loads (after a save) leave the editor's text alone
  useEffect(() => {
    if (w && source === null) {
      setSource(w.source)
      setSaved(w.source)
    }
  }, [w, source])

  // the server's check, as the save would make it, once typing pauses
  useEffect(() => {
    if (source === null) return
    const abort = new AbortController()
    const timer = setTimeout(() => {
      validateWorkflow(source, abort.signal)
        .then((answer) => setProblems(answer.errors))
        .catch(() => {
          // aborted by the next keystroke, or the server is away: the save reports problems anyway
        })
    }, CHECK_DELAY_MS)
    return () => {
      clearTimeout(timer)
      abort.abort()
    }
  }, [source])

  const local = useMemo(() => (source === null ? null : readLocally(source)), [source])
  // the last file that read as YAML keeps the graph and the forms up while a line is half typed
  const [lastGood, setLastGood] = useState<Record<string, unknown> | null>(null)
  useEffect(() => {
    if (local) setLastGood(local)
  }, [local])
  const file = local ?? lastGood
  const steps = (Array.isArray(file?.steps) ? file.steps : []) as StepSpec[]
  const paths = useMemo(() => stepPaths(steps), [steps])
  const selectedNode = selected ? ([...paths.entries()].find(([, p]) => samePath(p, selected))?.[0] ?? null) : 'trigger'
  const selectedStep = selected ? getAt(file, selected) : null

  if (!w || source === null)
    return (
      <section>
        <h1>Edit {id}</h1>
        <ErrorNote error={workflow.error} />
        {workflow.isPending ? <p>Loading…</p> : null}
      </section>
    )

  const edit = (next: string | null) => {
    if (next !== null) setSource(next)
    setNotice(null)
  }
  const onField = (path: YamlPath, value: unknown) => edit(setAt(source, path, value))
  const select = (nodeId: string) => setSelected(nodeId === 'trigger' ? null : (paths.get(nodeId) ?? null))
  const newStep = (): Record<string, unknown> => {
    if (newKind === 'wait') return { wait: '1h' }
    if (newKind === 'if') return { if: 'true', then: [{ exit: 'condition met' }] }
    if (newKind === 'exit') return { exit: 'done' }
    return { action: newKind, with: {} }
  }
  const add = () => {
    const done = insertStep(source, selected, newStep())
    if (done) {
      edit(done.source)
      setSelected(done.path)
    }
  }
  const remove = () => {
    if (!selected) return
    edit(deleteStep(source, selected))
    setSelected(null)
  }
  const move = (by: -1 | 1) => {
    if (!selected) return
    const done = moveStep(source, selected, by)
    if (done) {
      edit(done.source)
      setSelected(done.path)
    }
  }
  const relocate = (path: YamlPath | undefined, to: number | undefined, list?: YamlPath) => {
    if (!path || to === undefined || (list && !sameList(path, list))) {
      setNotice('A step moves within its own branch: drop it on a step of the same list')
      return
    }
    const done = moveStepTo(source, path, to)
    if (done) {
      edit(done.source)
      setSelected(done.path)
    }
  }
  // a step dropped on another takes its place
  const onDrop = (nodeId: string, ontoId: string) => {
    const onto = paths.get(ontoId)
    relocate(paths.get(nodeId), onto?.[onto.length - 1] as number | undefined, onto)
  }
  // an arrow drawn from A to B puts B right after A (from the trigger: first)
  const onConnect = (sourceId: string, targetId: string) => {
    const target = paths.get(targetId)
    if (sourceId === 'trigger') return relocate(target, 0, ['steps', 0])
    const from = paths.get(sourceId)
    if (!from || !target) return
    const si = from[from.length - 1] as number
    const ti = target[target.length - 1] as number
    relocate(target, ti > si ? si + 1 : si, from)
  }
  const onSave = () =>
    save.mutate(source, {
      onSuccess: (summary) => {
        setNotice(summary.version === w.version ? `No changes: still version ${summary.version}` : `Saved as version ${summary.version}`)
        setSaved(source)
      },
    })
  const dirty = source !== saved
  const trigger = file?.trigger as { event?: string } | undefined
  const triggerLabel = triggerText(file?.trigger && typeof file.trigger === 'object' ? (file.trigger as Record<string, unknown>) : w.trigger)

  return (
    <section className="editor" aria-labelledby="editor-heading">
      <p>
        <Link to={`/workflows/${encodeURIComponent(id)}`}>← {w.name}</Link>
      </p>
      <h1 id="editor-heading">Edit {w.name}</h1>
      <div className="facts toolbar">
        <span className={`badge badge-${w.active ? 'active' : 'inactive'}`}>{w.active ? 'active' : 'inactive'}</span>
        <span>version {w.version}</span>
        <button type="button" className="primary" onClick={onSave} disabled={save.isPending || !dirty}>
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={() => setActive.mutate(!w.active)} disabled={setActive.isPending}>
          {w.active ? 'Deactivate' : 'Activate'}
        </button>
        {dirty ? <span className="muted">unsaved changes</span> : null}
        <span role="status">{notice}</span>
      </div>
      <ErrorNote error={save.error ?? setActive.error ?? actions.error} />

      <div className="editor-grid">
        <section className="editor-yaml" aria-labelledby={`${yamlId}-heading`}>
          <h2 id={`${yamlId}-heading`}>YAML</h2>
          <label htmlFor={yamlId} className="visually-hidden">
            The workflow as YAML
          </label>
          <textarea
            id={yamlId}
            className="mono yaml-input"
            wrap="off"
            value={source}
            spellCheck={false}
            aria-describedby={problems.length > 0 ? `${yamlId}-problems` : undefined}
            onChange={(e) => edit(e.target.value)}
          />
          {problems.length > 0 ? (
            <ul id={`${yamlId}-problems`} className="problems" aria-label="Problems in the workflow">
              {problems.map((p, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: one answer's list, replaced whole
                <li key={i} className="error">
                  {p.line ? `line ${p.line}` : 'file'}
                  {p.path ? ` (${p.path})` : ''}: {p.message}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted" role="status">
              {local ? 'No problems found.' : 'Checking…'}
            </p>
          )}
        </section>

        <section className="editor-visual" aria-label="Steps">
          <GraphBoundary source={source}>
            <Suspense fallback={<p className="graph">Loading the graph…</p>}>
              <EditableGraph steps={steps} trigger={triggerLabel} selected={selectedNode} onSelect={select} onDrop={onDrop} onConnect={onConnect} />
            </Suspense>
          </GraphBoundary>
          <nav aria-label="Step outline">
            <ol className="outline">
              <li>
                <button type="button" aria-pressed={selected === null} onClick={() => setSelected(null)}>
                  trigger: {triggerLabel}
                </button>
              </li>
              {[...paths.entries()].map(([nodeId, path]) => (
                <li key={nodeId} style={{ paddingLeft: `${(path.length - 2) * 0.75}rem` }}>
                  <button type="button" aria-pressed={samePath(path, selected)} onClick={() => setSelected(path)}>
                    {stepTitle(getAt(file, path))}
                  </button>
                </li>
              ))}
            </ol>
          </nav>
          <div className="row step-tools">
            <label htmlFor={addId}>New step</label>
            <select id={addId} value={newKind} onChange={(e) => setNewKind(e.target.value)}>
              <option value="wait">wait</option>
              <option value="if">if</option>
              <option value="exit">exit</option>
              {(actions.data?.items ?? []).map((a) => (
                <option key={a.type} value={a.type}>
                  action: {a.type}
                </option>
              ))}
            </select>
            <button type="button" onClick={add}>
              {selected ? 'Add after selected' : 'Add at the end'}
            </button>
            <button type="button" onClick={() => move(-1)} disabled={!selected}>
              Move up
            </button>
            <button type="button" onClick={() => move(1)} disabled={!selected}>
              Move down
            </button>
            <button type="button" className="danger" onClick={remove} disabled={!selected}>
              Delete step
            </button>
          </div>
          <form className="step-form" aria-label="Selected step" onSubmit={(e) => e.preventDefault()}>
            {selected && selectedStep && typeof selectedStep === 'object' ? (
              <StepForm
                step={selectedStep as Record<string, unknown>}
                path={selected}
                actions={actions.data?.items ?? []}
                onChange={onField}
                problems={problems}
              />
            ) : file ? (
              <WorkflowForm file={file} onChange={onField} />
            ) : null}
          </form>
        </section>
      </div>

      <div className="editor-grid">
        <VersionHistory id={id} versions={w.versions} />
        <TestPanel id={id} eventType={trigger?.event} dirty={dirty} />
      </div>
    </section>
  )
}
