import { useState } from 'react'
import { type PurchaseOrder, usePurchaseOrderAction, usePurchaseOrders, useSuppliers } from '../../api/store-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { StatusBadge } from '../../components/StatusBadge.tsx'
import { Time } from '../../components/Time.tsx'

/** Purchase orders: a draft's lines, sending it to the supplier, booking what arrived. */
export function PurchaseOrdersPage() {
  const [status, setStatus] = useState('')
  const orders = usePurchaseOrders(status)
  const [openId, setOpenId] = useState<string | null>(null)
  const open = orders.data?.items.find((o) => o.id === openId) ?? null
  return (
    <section aria-labelledby="po-heading">
      <h1 id="po-heading">Purchase orders</h1>
      <div className="filters">
        <label htmlFor="po-status">Status</label>
        <select id="po-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">all</option>
          <option value="draft">draft</option>
          <option value="sent">sent</option>
          <option value="received">received</option>
        </select>
      </div>
      <ErrorNote error={orders.error} />
      {orders.isPending ? <p>Loading…</p> : null}
      {orders.data && orders.data.items.length === 0 ? <p>No purchase orders{status ? ` with status ${status}` : ''}.</p> : null}
      {orders.data && orders.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Number</th>
              <th scope="col">Supplier</th>
              <th scope="col">Status</th>
              <th scope="col">Lines</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="sr-only">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.data.items.map((o) => (
              <tr key={o.id}>
                <td>{o.number}</td>
                <td>{o.supplier_id}</td>
                <td>
                  <StatusBadge status={o.status} />
                </td>
                <td>{o.lines.length}</td>
                <td>
                  <Time value={o.created_at} />
                </td>
                <td>
                  <button type="button" aria-pressed={o.id === openId} onClick={() => setOpenId(o.id === openId ? null : o.id)}>
                    {o.id === openId ? 'Hide' : 'Show'} {o.number}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {open ? <PurchaseOrderDetail order={open} /> : null}
    </section>
  )
}

function PurchaseOrderDetail({ order }: { order: PurchaseOrder }) {
  const action = usePurchaseOrderAction()
  return (
    <article aria-labelledby="po-detail" className="panel">
      <h2 id="po-detail">
        {order.number} <StatusBadge status={order.status} />
      </h2>
      <table>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Description</th>
            <th scope="col">Quantity</th>
            <th scope="col">Unit cost</th>
            <th scope="col">Received</th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((l) => (
            <tr key={l.sku}>
              <td>{l.sku}</td>
              <td>{l.description ?? '—'}</td>
              <td>{l.quantity}</td>
              <td>{l.unit_cost ?? '—'}</td>
              <td>{l.received ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorNote error={action.error} />
      <div className="actions">
        {order.status === 'draft' ? (
          <button type="button" disabled={action.isPending} onClick={() => action.mutate({ id: order.id, action: 'send' })}>
            Approve and send {order.number} to the supplier
          </button>
        ) : null}
        {order.status === 'sent' ? (
          <button
            type="button"
            disabled={action.isPending}
            onClick={() =>
              action.mutate({
                id: order.id,
                action: 'receive',
                lines: order.lines.map((l) => ({ sku: l.sku, quantity: Math.max(l.quantity - (l.received ?? 0), 0) })),
              })
            }
          >
            Receive everything still due on {order.number}
          </button>
        ) : null}
      </div>
    </article>
  )
}

export function SuppliersPage() {
  const suppliers = useSuppliers()
  return (
    <section aria-labelledby="suppliers-heading">
      <h1 id="suppliers-heading">Suppliers</h1>
      <ErrorNote error={suppliers.error} />
      {suppliers.isPending ? <p>Loading…</p> : null}
      {suppliers.data && suppliers.data.items.length === 0 ? <p>No suppliers yet (POST /api/v1/suppliers).</p> : null}
      {suppliers.data && suppliers.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Lead time (days)</th>
              <th scope="col">Minimum order</th>
              <th scope="col">SKUs</th>
            </tr>
          </thead>
          <tbody>
            {suppliers.data.items.map((s) => (
              <tr key={s.id}>
                <td>{s.id}</td>
                <td>{s.name}</td>
                <td>{s.email ?? '—'}</td>
                <td>{s.lead_time_days}</td>
                <td>{s.min_order_quantity}</td>
                <td>{s.skus.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}
