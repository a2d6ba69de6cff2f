import { useId, useState } from 'react'
import { useRecentEvents, useSimulate } from '../../api/editor-hooks.ts'
import { ErrorNote } from '../ErrorNote.tsx'

/** A made-up event of the trigger's type, to start from. */
function sample(type: string): string {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  return JSON.stringify(
    {
      id: `sample-${Date.now()}`,
      type,
      occurred_at: now,
      data: {
        id: 'sample-1',
        email: 'ann@example.com',
        total_price: '80.00',
        currency: 'USD',
        customer: { id: 'c-sample', email: 'ann@example.com', first_name: 'Ann', accepts_marketing: true },
      },
    },
    null,
    2,
  )
}

/** Simulates the saved workflow on a sample or a past event: the timeline and the rendered emails. */
export function TestPanel({ id, eventType, dirty }: { id: string; eventType: string | undefined; dirty: boolean }) {
  const events = useRecentEvents(eventType)
  const simulate = useSimulate(id)
  const [mode, setMode] = useState<'past' | 'sample'>('past')
  const [eventId, setEventId] = useState('')
  const [json, setJson] = useState(() => sample(eventType ?? 'order.created'))
  const [jsonError, setJsonError] = useState<string | null>(null)
  const pickId = useId()
  const jsonId = useId()
  const chosen = eventId || events.data?.items[0]?.id || ''

  const run = () => {
    setJsonError(null)
    if (mode === 'past') {
      if (chosen) simulate.mutate({ event_id: chosen })
      return
    }
    try {
      simulate.mutate({ event: JSON.parse(json) })
    } catch (err) {
      setJsonError(`The event is not JSON: ${(err as Error).message}`)
    }
  }
  const sim = simulate.data
  return (
    <section className="test-panel" aria-labelledby="test-heading">
      <h2 id="test-heading">Test</h2>
      <p className="muted">
        Runs one event through the saved version on a virtual clock: nothing is sent or stored.{dirty ? ' Save first to test your changes.' : ''}
      </p>
      <fieldset className="row">
        <legend>Event</legend>
        <label>
          <input type="radio" name="test-mode" checked={mode === 'past'} onChange={() => setMode('past')} /> a past event
        </label>
        <label>
          <input type="radio" name="test-mode" checked={mode === 'sample'} onChange={() => setMode('sample')} /> a sample
        </label>
      </fieldset>
      {mode === 'past' ? (
        <div className="field">
          <label htmlFor={pickId}>Past {eventType ?? ''} event</label>
          <select id={pickId} value={chosen} onChange={(e) => setEventId(e.target.value)}>
            {(events.data?.items ?? []).map((e) => (
              <option key={e.id} value={e.id}>
                {e.id} · {e.occurred_at}
              </option>
            ))}
          </select>
          {events.data && events.data.items.length === 0 ? <small className="muted">No {eventType} events stored yet: use a sample.</small> : null}
        </div>
      ) : (
        <div className="field">
          <label htmlFor={jsonId}>Event JSON</label>
          <textarea id={jsonId} className="mono" rows={10} value={json} spellCheck={false} onChange={(e) => setJson(e.target.value)} />
        </div>
      )}
      <button type="button" onClick={run} disabled={simulate.isPending || (mode === 'past' && !chosen)}>
        {simulate.isPending ? 'Simulating…' : 'Simulate'}
      </button>
      {jsonError ? (
        <p className="error" role="alert">
          {jsonError}
        </p>
      ) : null}
      <ErrorNote error={simulate.error} />
      {sim ? (
        <div className="simulation" aria-live="polite">
          <p>
            {sim.started ? `Run ${sim.run_status ?? 'ran'}` : `No run started${sim.reason ? `: ${sim.reason}` : ''}`} · {sim.steps.length} step
            {sim.steps.length === 1 ? '' : 's'} · {sim.messages.length} message{sim.messages.length === 1 ? '' : 's'}
          </p>
          <ol className="timeline" aria-label="Simulated timeline">
            {sim.steps.map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the timeline is fixed once answered
              <li key={i}>
                <span className="mono">{s.at}</span> <strong>{s.id}</strong> <span className="muted">{s.type}</span>{' '}
                <span className={`badge badge-${s.status}`}>{s.status}</span> {s.note}
              </li>
            ))}
          </ol>
          {sim.messages.map((m, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the messages are fixed once answered
            <article key={i} className="rendered-email">
              <h3>
                {m.subject} <span className="muted">to {m.to}</span>
              </h3>
              <iframe title={`Rendered email: ${m.subject}`} sandbox="" srcDoc={m.html} />
            </article>
          ))}
        </div>
      ) : null}
    </section>
  )
}
