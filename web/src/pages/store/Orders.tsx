import { useCarts, useOrders } from '../../api/store-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { Time } from '../../components/Time.tsx'
import { Link } from '../../router.tsx'
import { Money } from './SubNav.tsx'
import { ShowMore } from '../../components/ShowMore.tsx'

/** The store's orders (newest first) and carts (most recently changed first). */
export function OrdersPage() {
  const orders = useOrders()
  const carts = useCarts()
  return (
    <section aria-labelledby="orders-heading">
      <h1 id="orders-heading">Orders and carts</h1>
      <h2>Orders</h2>
      <ErrorNote error={orders.error} />
      {orders.isPending ? <p>Loading…</p> : null}
      {orders.data && orders.data.items.length === 0 ? <p>No orders yet.</p> : null}
      {orders.data && orders.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Customer</th>
              <th scope="col">Lines</th>
              <th scope="col">Total</th>
              <th scope="col">Payment</th>
              <th scope="col">Fulfilment</th>
            </tr>
          </thead>
          <tbody>
            {orders.data.items.map((o) => (
              <tr key={o.id}>
                <td>{o.number ?? o.id}</td>
                <td>
                  <Time value={o.created_at} />
                </td>
                <td>{o.customer_key ? <Link to={`/customers/${encodeURIComponent(o.customer_key)}`}>profile</Link> : <span className="muted">guest</span>}</td>
                <td>
                  {o.line_items.map((li, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: an order's lines have no id of their own and never move
                    <div key={i}>
                      {li.quantity ?? 1} × {li.title ?? li.sku ?? 'item'}
                      {li.sku ? <span className="muted"> ({li.sku})</span> : null}
                    </div>
                  ))}
                </td>
                <td>
                  <Money value={o.total_price} currency={o.currency} />
                </td>
                <td>{o.cancelled ? 'cancelled' : (o.financial_status ?? '—')}</td>
                <td>{o.fulfillment_status ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={orders} noun="orders" />
      <h2>Carts</h2>
      <ErrorNote error={carts.error} />
      {carts.data && carts.data.items.length === 0 ? <p>No carts yet.</p> : null}
      {carts.data && carts.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Cart</th>
              <th scope="col">Email</th>
              <th scope="col">Items</th>
              <th scope="col">Total</th>
              <th scope="col">State</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {carts.data.items.map((c) => (
              <tr key={c.id}>
                <td>{c.id}</td>
                <td>{c.email ?? '—'}</td>
                <td>{c.line_items.reduce((n, li) => n + (li.quantity ?? 0), 0)}</td>
                <td>
                  <Money value={c.total_price} currency={c.currency} />
                </td>
                <td>{c.converted ? 'ordered' : 'open'}</td>
                <td>
                  <Time value={c.updated_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={carts} noun="carts" />
    </section>
  )
}
