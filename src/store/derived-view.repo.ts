import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type { DerivedViewReads } from '../plugin-api/define-trigger.ts'
import { invoiceView } from './invoices.repo.ts'
import type { CustomersTable, Database, InvoicesTable } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

/**
 * The reads of the time-based derived triggers (plugin-api DerivedViewReads), for one store. The
 * event id of what a row would derive is built here, in SQL, so that rows whose event the log
 * already holds are left out by the same query (the (store_id, id) index answers it).
 */
export function derivedViewReads(db: Db, storeId: string): DerivedViewReads {
  return {
    async abandonedCarts({ idleBefore, notBefore }, limit) {
      const { rows } = await sql<{ id: string; updated_at: string; email: string; data: string; event_id: string } & CustomerColumns>`
        select c.id, c.updated_at, c.email, c.data, 'cart.abandoned:' || c.id || ':' || c.updated_at as event_id, ${customerColumns('k')}
        from carts c left join customers k on k.key = c.customer_key
        where c.store_id = ${storeId} and c.converted = 0 and c.email is not null
          and c.updated_at <= ${idleBefore} and c.updated_at > ${notBefore}
          and not exists (
            select 1 from orders o where o.store_id = c.store_id and o.customer_key = c.customer_key and o.created_at >= c.updated_at
          )
          and not exists (select 1 from events e where e.store_id = c.store_id and e.id = 'cart.abandoned:' || c.id || ':' || c.updated_at)
        order by c.updated_at, c.id
        limit ${limit}`.execute(db)
      return rows.map((r) => {
        const data = JSON.parse(r.data) as Obj
        return { event_id: r.event_id, updated_at: r.updated_at, data: { ...data, email: data.email ?? r.email }, customer: customerFacts(r) }
      })
    },

    async inactiveCustomers({ lastOrderBefore, notBefore }, limit) {
      const { rows } = await sql<{ last_order_at: string; event_id: string } & CustomerColumns>`
        select k.last_order_at, 'customer.inactive:' || k.key || ':' || k.last_order_at as event_id, ${customerColumns('k')}
        from customers k
        where k.store_id = ${storeId} and k.last_order_at is not null
          and k.last_order_at <= ${lastOrderBefore} and k.last_order_at > ${notBefore}
          and not exists (select 1 from events e where e.store_id = k.store_id and e.id = 'customer.inactive:' || k.key || ':' || k.last_order_at)
        order by k.last_order_at, k.key
        limit ${limit}`.execute(db)
      return rows.map((r) => ({ event_id: r.event_id, last_order_at: r.last_order_at, customer: customerFacts(r)! }))
    },

    async birthdays(monthDays, limit, after = '') {
      if (monthDays.length === 0) return []
      const { rows } = await sql<CustomerColumns>`
        select ${customerColumns('k')} from customers k
        where k.store_id = ${storeId} and k.birthday is not null and substr(k.birthday, 6, 5) in (${sql.join(monthDays)})
          and k.key > ${after}
        order by k.key
        limit ${limit}`.execute(db)
      return rows.map((r) => ({ key: r.customer_key!, birthday: r.customer_birthday!, customer: customerFacts(r)! }))
    },

    async renewalsDue({ renewsBefore, notBefore }, limit) {
      const { rows } = await sql<{ renews_at: string; data: string; event_id: string } & CustomerColumns>`
        select s.renews_at, s.data, 'subscription.renewal_due:' || s.id || ':' || s.next_renewal_at as event_id, ${customerColumns('k')}
        from subscriptions s left join customers k on k.key = s.customer_key
        where s.store_id = ${storeId} and s.status = 'active'
          and s.renews_at <= ${renewsBefore} and s.renews_at > ${notBefore}
          and not exists (select 1 from events e where e.store_id = s.store_id and e.id = 'subscription.renewal_due:' || s.id || ':' || s.next_renewal_at)
        order by s.renews_at, s.id
        limit ${limit}`.execute(db)
      return rows.map((r) => ({ event_id: r.event_id, renews_at: r.renews_at, data: JSON.parse(r.data) as Obj, customer: customerFacts(r) }))
    },

    async overdueInvoices({ dueBefore, notBefore }, limit) {
      const { rows } = await sql<Selectable<InvoicesTable> & CustomerColumns>`
        select i.*, ${customerColumns('k')}
        from invoices i left join customers k on k.key = i.customer_key
        where i.store_id = ${storeId} and i.status = 'open'
          and i.due_at <= ${dueBefore} and i.due_at > ${notBefore}
          and not exists (select 1 from events e where e.store_id = i.store_id and e.id = 'invoice.overdue:' || i.id)
        order by i.due_at, i.id
        limit ${limit}`.execute(db)
      return rows.map((row) => {
        const customer = customerFacts(row)
        const data = { ...invoiceView(row), total: row.total, ...(customer ? { customer } : {}) }
        return { event_id: `invoice.overdue:${row.id}`, due_at: row.due_at, data, customer }
      })
    },

    async existingEventIds(ids) {
      if (ids.length === 0) return new Set()
      const rows = await db.selectFrom('events').select('id').where('store_id', '=', storeId).where('id', 'in', ids).execute()
      return new Set(rows.map((r) => r.id))
    },
  }
}

type CustomerColumns = { [K in (typeof CUSTOMER_FIELDS)[number] as `customer_${K}`]: Selectable<CustomersTable>[K] | null }

/** What a derived event says of its customer: who they are, not their computed figures (workflows read those from `customer`). */
const CUSTOMER_FIELDS = ['key', 'external_id', 'email', 'first_name', 'last_name', 'birthday', 'timezone'] as const

function customerColumns(alias: string) {
  return sql.join(CUSTOMER_FIELDS.map((f) => sql`${sql.ref(`${alias}.${f}`)} as ${sql.ref(`customer_${f}`)}`))
}

function customerFacts(row: CustomerColumns): Obj | null {
  if (!row.customer_key) return null
  const out: Obj = {}
  if (row.customer_external_id) out.id = row.customer_external_id
  for (const f of ['email', 'first_name', 'last_name', 'birthday', 'timezone'] as const) {
    const value = row[`customer_${f}`]
    if (value) out[f] = value
  }
  return out.id || out.email ? out : null
}
