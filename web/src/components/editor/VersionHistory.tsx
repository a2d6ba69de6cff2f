import { useId, useState } from 'react'
import { useWorkflowVersion } from '../../api/editor-hooks.ts'
import { lineDiff } from '../../lib/diff.ts'
import { ErrorNote } from '../ErrorNote.tsx'

/** The saved versions, and a line diff between any two of them. */
export function VersionHistory({ id, versions }: { id: string; versions: number[] }) {
  const sorted = [...versions].sort((a, b) => b - a)
  const latest = sorted[0] ?? null
  const [picked, setPicked] = useState<{ from: number | null; to: number | null }>({ from: null, to: null })
  const to = picked.to ?? latest
  const from = picked.from ?? sorted.find((v) => to !== null && v < to) ?? null
  const a = useWorkflowVersion(id, from)
  const b = useWorkflowVersion(id, to)
  const fromId = useId()
  const toId = useId()
  const diff = a.data && b.data ? lineDiff(a.data.source, b.data.source) : null
  const changed = diff?.filter((l) => l.kind !== 'same').length ?? 0
  return (
    <section className="versions" aria-labelledby="versions-heading">
      <h2 id="versions-heading">Version history</h2>
      <ol className="version-list">
        {sorted.map((v) => (
          <li key={v}>version {v}</li>
        ))}
      </ol>
      {sorted.length < 2 ? (
        <p className="muted">One version so far: save a change to compare.</p>
      ) : (
        <>
          <div className="row">
            <label htmlFor={fromId}>From</label>
            <select id={fromId} value={from ?? ''} onChange={(e) => setPicked({ from: Number(e.target.value), to })}>
              {sorted.map((v) => (
                <option key={v} value={v}>
                  version {v}
                </option>
              ))}
            </select>
            <label htmlFor={toId}>to</label>
            <select id={toId} value={to ?? ''} onChange={(e) => setPicked({ from, to: Number(e.target.value) })}>
              {sorted.map((v) => (
                <option key={v} value={v}>
                  version {v}
                </option>
              ))}
            </select>
          </div>
          <ErrorNote error={a.error ?? b.error} />
          {diff ? (
            <>
              <p className="muted">
                {changed} line{changed === 1 ? '' : 's'} changed from version {from} to version {to}
              </p>
              {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus for keyboard scrolling */}
              <pre className="diff" tabIndex={0} title={`Changes from version ${from} to version ${to}`}>
                {diff.map((line, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: lines of one diff, never reordered
                  <span key={i} className={`diff-${line.kind}`}>
                    {line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '- ' : '  '}
                    {line.text}
                    {'\n'}
                  </span>
                ))}
              </pre>
            </>
          ) : null}
        </>
      )}
    </section>
  )
}
