import { type FormEvent, useId } from 'react'
import { useEvents } from '../api/event-hooks.ts'
import { ErrorNote } from '../components/ErrorNote.tsx'
import { Json } from '../components/Json.tsx'
import { Time } from '../components/Time.tsx'
import { navigate, useLocation } from '../router.tsx'
import { ShowMore } from '../components/ShowMore.tsx'

/** Events the store sent, newest first, filtered by type and customer (kept in the URL), refreshed live. */
export function EventsPage() {
  const { search } = useLocation()
  const filter = { type: search.get('type') ?? undefined, customer: search.get('customer') ?? undefined }
  const events = useEvents(filter)
  const ids = { type: useId(), customer: useId() }

  const apply = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const next = new URLSearchParams()
    for (const name of ['type', 'customer']) {
      const value = String(form.get(name) ?? '').trim()
      if (value) next.set(name, value)
    }
    const qs = next.toString()
    navigate(`/events${qs ? `?${qs}` : ''}`)
  }

  return (
    <section aria-labelledby="events-heading">
      <h1 id="events-heading">Events</h1>
      <form className="filters" onSubmit={apply} key={search.toString()}>
        <label htmlFor={ids.type}>Type</label>
        <input id={ids.type} name="type" defaultValue={filter.type ?? ''} placeholder="order.paid" />
        <label htmlFor={ids.customer}>Customer</label>
        <input id={ids.customer} name="customer" defaultValue={filter.customer ?? ''} placeholder="shop customer id" />
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={events.error} />
      {events.isPending ? <p>Loading…</p> : null}
      {events.data && events.data.items.length === 0 ? <p>No events yet.</p> : null}
      {events.data && events.data.items.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Events">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Id</th>
                <th scope="col">Occurred</th>
                <th scope="col">Received</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {events.data.items.map((e) => (
                <tr key={e.id}>
                  <td className="mono">
                    {e.type}
                    {e.historical ? <span className="muted"> (history)</span> : null}
                  </td>
                  <td className="mono">{e.id}</td>
                  <td>
                    <Time value={e.occurred_at} />
                  </td>
                  <td>
                    <Time value={e.received_at} />
                  </td>
                  <td>
                    <Json value={e.data} label={`Data of ${e.id}`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ShowMore list={events} noun="events" />
    </section>
  )
}
