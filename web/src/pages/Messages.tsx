import { useState } from 'react'
import { useMessages } from '../api/hooks.ts'
import type { Message } from '../api/types.ts'
import { ErrorNote } from '../components/ErrorNote.tsx'
import { ScrollText } from '../components/ScrollText.tsx'
import { StatusBadge } from '../components/StatusBadge.tsx'
import { Time } from '../components/Time.tsx'
import { Link } from '../router.tsx'
import { ShowMore } from '../components/ShowMore.tsx'

/** The outbox: every message the store sent or will send, and a preview of one as its customer sees it. */
export function MessagesPage() {
  const messages = useMessages({})
  const [openId, setOpenId] = useState<string | null>(null)
  const open = messages.data?.items.find((m) => m.id === openId) ?? null
  return (
    <section aria-labelledby="outbox-heading">
      <h1 id="outbox-heading">Outbox</h1>
      <ErrorNote error={messages.error} />
      {messages.isPending ? <p>Loading…</p> : null}
      {messages.data && messages.data.items.length === 0 ? <p>No messages yet.</p> : null}
      <div className="outbox">
        {messages.data && messages.data.items.length > 0 ? (
          <ul className="message-list">
            {messages.data.items.map((m) => (
              <li key={m.id}>
                <button type="button" className="message-row" aria-pressed={m.id === openId} onClick={() => setOpenId(m.id === openId ? null : m.id)}>
                  <span className="message-subject">{m.subject ?? `(${m.channel})`}</span>
                  <span className="muted">{m.to ?? '—'}</span>
                  <StatusBadge status={m.status} />
                  <Time value={m.sent_at ?? m.created_at} />
                </button>
              </li>
            ))}
          </ul>
        ) : null}
        <ShowMore list={messages} noun="messages" />
        {open ? <MessagePreview message={open} /> : null}
      </div>
    </section>
  )
}

function MessagePreview({ message }: { message: Message }) {
  return (
    <article className="preview" aria-labelledby="preview-heading">
      <h2 id="preview-heading">{message.subject ?? '(no subject)'}</h2>
      <dl className="facts-grid">
        <dt>To</dt>
        <dd>{message.to ?? '—'}</dd>
        <dt>From</dt>
        <dd>{message.from ?? '—'}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={message.status} /> {message.opens} opens · {message.clicks} clicks
        </dd>
        {message.run_id ? (
          <>
            <dt>Run</dt>
            <dd>
              <Link to={`/runs/${encodeURIComponent(message.run_id)}`}>{message.run_id}</Link>
            </dd>
          </>
        ) : null}
      </dl>
      <ErrorNote error={message.error} />
      {message.html ? (
        // sandbox="" : no script, no form, no top navigation, an origin of its own; the mail is shown, never run
        <iframe className="mail-frame" title={`Preview of ${message.subject ?? 'the message'}`} sandbox="" srcDoc={message.html} referrerPolicy="no-referrer" />
      ) : (
        <ScrollText className="mail-text" label="Text of the message">
          {message.text ?? ''}
        </ScrollText>
      )}
    </article>
  )
}
