import { type FormEvent, useState } from 'react'
import { useMessages, useRuns } from '../../api/hooks.ts'
import { type Customer, useCustomer, useCustomers, useOrders, useRecommendations, useSegments } from '../../api/store-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { StatusBadge } from '../../components/StatusBadge.tsx'
import { Time } from '../../components/Time.tsx'
import { Link } from '../../router.tsx'
import { customerName, Money } from './SubNav.tsx'
import { ShowMore } from '../../components/ShowMore.tsx'

/** The store's customers, newest first, with a search over email, name and shop id. */
export function CustomersPage() {
  const [draft, setDraft] = useState('')
  const [q, setQ] = useState('')
  const customers = useCustomers(q)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setQ(draft)
  }
  return (
    <section aria-labelledby="customers-heading">
      <h1 id="customers-heading">Customers</h1>
      <search>
        <form className="filters" onSubmit={submit}>
          <label htmlFor="customer-search">Find a customer</label>
          <input id="customer-search" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="email, name or shop id" />
          <button type="submit">Search</button>
        </form>
      </search>
      <ErrorNote error={customers.error} />
      {customers.isPending ? <p>Loading…</p> : null}
      {customers.data && customers.data.items.length === 0 ? <p>No customers{q ? ` match “${q}”` : ' yet'}.</p> : null}
      {customers.data && customers.data.items.length > 0 ? (
        <table>
          <caption className="sr-only">Customers</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Orders</th>
              <th scope="col">Spent</th>
              <th scope="col">Last order</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {customers.data.items.map((c) => (
              <tr key={c.key}>
                <td>
                  <Link to={`/customers/${encodeURIComponent(c.key)}`}>{customerName(c)}</Link>
                </td>
                <td>{c.email ?? '—'}</td>
                <td>{c.orders_count}</td>
                <td>
                  <Money value={c.total_spent} />
                </td>
                <td>
                  <Time value={c.last_order_at} />
                </td>
                <td>{c.tags.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={customers} noun="customers" />
    </section>
  )
}

/** One customer: the profile, segments, RFM, tags and loyalty points, their orders, runs and messages. */
export function CustomerDetailPage({ id }: { id: string }) {
  const customer = useCustomer(id)
  return (
    <section aria-labelledby="customer-heading">
      <p>
        <Link to="/customers">← Customers</Link>
      </p>
      <ErrorNote error={customer.error} />
      {customer.isPending ? <p>Loading…</p> : null}
      {customer.data ? <Profile customer={customer.data} /> : null}
    </section>
  )
}

function Profile({ customer: c }: { customer: Customer }) {
  const segments = useSegments()
  const names = new Map((segments.data?.items ?? []).map((s) => [s.id, s.name]))
  return (
    <>
      <h1 id="customer-heading">{customerName(c)}</h1>
      <dl className="facts-grid" aria-label="Profile">
        <dt>Email</dt>
        <dd>{c.email ?? '—'}</dd>
        <dt>Shop id</dt>
        <dd>{c.id ?? '—'}</dd>
        <dt>Orders</dt>
        <dd data-testid="orders-count">{c.orders_count}</dd>
        <dt>Total spent</dt>
        <dd>
          <Money value={c.total_spent} />
        </dd>
        <dt>Last order</dt>
        <dd>
          <Time value={c.last_order_at} />
        </dd>
        <dt>Marketing</dt>
        <dd>{c.unsubscribed_at ? 'unsubscribed' : c.accepts_marketing ? 'subscribed' : 'not subscribed'}</dd>
        <dt>Loyalty points</dt>
        <dd>{c.loyalty_points}</dd>
        <dt>RFM</dt>
        <dd>{c.rfm ? `R ${c.rfm.r} · F ${c.rfm.f} · M ${c.rfm.m} (score ${c.rfm.score})` : 'not scored yet'}</dd>
        <dt>Tags</dt>
        <dd>
          {c.tags.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <ul className="chips" aria-label="Tags">
              {c.tags.map((t) => (
                <li key={t} className="chip">
                  {t}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Segments</dt>
        <dd>
          {c.segments.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            <ul className="chips" aria-label="Segments">
              {c.segments.map((s) => (
                <li key={s} className="chip">
                  {names.get(s) ?? s}
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      <CustomerOrders customerKey={c.key} />
      <CustomerRecommendations customerKey={c.key} />
      <CustomerRuns customerKey={c.key} />
      <CustomerMessages customerKey={c.key} />
    </>
  )
}

function CustomerOrders({ customerKey }: { customerKey: string }) {
  const orders = useOrders(customerKey)
  return (
    <section aria-labelledby="customer-orders">
      <h2 id="customer-orders">Orders</h2>
      <ErrorNote error={orders.error} />
      {orders.data && orders.data.items.length === 0 ? <p>No orders.</p> : null}
      {orders.data && orders.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Items</th>
              <th scope="col">Total</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {orders.data.items.map((o) => (
              <tr key={o.id}>
                <td>{o.number ?? o.id}</td>
                <td>
                  <Time value={o.created_at} />
                </td>
                <td>{o.line_items.reduce((n, li) => n + (li.quantity ?? 0), 0)}</td>
                <td>
                  <Money value={o.total_price} currency={o.currency} />
                </td>
                <td>{o.cancelled ? 'cancelled' : (o.fulfillment_status ?? o.financial_status ?? '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={orders} noun="orders" />
    </section>
  )
}

function CustomerRuns({ customerKey }: { customerKey: string }) {
  const runs = useRuns({ customer: customerKey })
  return (
    <section aria-labelledby="customer-runs">
      <h2 id="customer-runs">Runs</h2>
      <ErrorNote error={runs.error} />
      {runs.data && runs.data.items.length === 0 ? <p>No runs.</p> : null}
      {runs.data && runs.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Workflow</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.id)}`}>{r.id}</Link>
                </td>
                <td>{r.workflow_id}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  <Time value={r.started_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={runs} noun="runs" />
    </section>
  )
}

function CustomerMessages({ customerKey }: { customerKey: string }) {
  const messages = useMessages({ customer: customerKey })
  return (
    <section aria-labelledby="customer-messages">
      <h2 id="customer-messages">Messages</h2>
      <ErrorNote error={messages.error} />
      {messages.data && messages.data.items.length === 0 ? <p>No messages.</p> : null}
      {messages.data && messages.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Channel</th>
              <th scope="col">Status</th>
              <th scope="col">Sent</th>
              <th scope="col">Opens / clicks</th>
            </tr>
          </thead>
          <tbody>
            {messages.data.items.map((m) => (
              <tr key={m.id}>
                <td>{m.subject ?? '—'}</td>
                <td>{m.channel}</td>
                <td>
                  <StatusBadge status={m.status} />
                </td>
                <td>
                  <Time value={m.sent_at ?? m.created_at} />
                </td>
                <td>
                  {m.opens} / {m.clicks}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={messages} noun="messages" />
    </section>
  )
}

function CustomerRecommendations({ customerKey }: { customerKey: string }) {
  const recommendations = useRecommendations(customerKey)
  return (
    <section aria-labelledby="customer-recommendations">
      <h2 id="customer-recommendations">Recommended products</h2>
      <ErrorNote error={recommendations.error} />
      {recommendations.data && recommendations.data.items.length === 0 ? <p>None yet.</p> : null}
      {recommendations.data && recommendations.data.items.length > 0 ? (
        <ol>
          {recommendations.data.items.map((r) => (
            <li key={r.sku}>
              {r.title ?? r.sku} <span className="muted">({r.sku})</span>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  )
}
