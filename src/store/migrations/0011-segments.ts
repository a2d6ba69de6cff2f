import type { Kysely } from 'kysely'

/**
 * Segments and RFM (store/segments.repo.ts). Frozen once shipped: later changes go in new
 * numbered files.
 *
 * - `segments`: a store's own segments, a CEL condition over `customer`. The built-in ones
 *   (new, repeat, high-value, at-risk, lapsed, vip) are code, not rows.
 * - `segment_members`: one row per (segment, customer) that was ever a member: `entries` counts
 *   the customer's entries (the n in the event id `segment.entered:<segment>:<customer>:<n>`),
 *   `exited_at` is null while the customer is a member. A deleted segment's rows stay, exited, so a
 *   segment made again under its id counts entries on (fresh event ids).
 * - `customers.segments` (JSON list of the segment ids the customer is in now) and
 *   `customers.rfm` (JSON `{ r, f, m, score }`, null without an order): kept with the
 *   membership, so every reader of the profile sees them without a join.
 * - `rfm_cuts`: per store, the values at which each RFM score starts, from its last full
 *   recompute; a customer whose orders change in between is scored against them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('segments')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('condition', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('segments_pk', ['store_id', 'id'])
    .execute()

  await db.schema
    .createTable('segment_members')
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('entries', 'integer', (c) => c.notNull())
    .addColumn('entered_at', 'text', (c) => c.notNull())
    .addColumn('exited_at', 'text')
    .addPrimaryKeyConstraint('segment_members_pk', ['store_id', 'segment_id', 'customer_key'])
    .execute()
  await db.schema.createIndex('segment_members_customer_idx').on('segment_members').columns(['store_id', 'customer_key']).execute()

  await db.schema
    .alterTable('customers')
    .addColumn('segments', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()
  await db.schema.alterTable('customers').addColumn('rfm', 'text').execute()

  await db.schema
    .createTable('rfm_cuts')
    .addColumn('store_id', 'text', (c) => c.primaryKey())
    .addColumn('cuts', 'text', (c) => c.notNull())
    .addColumn('computed_at', 'text', (c) => c.notNull())
    .execute()
}
