import type { Kysely, Transaction } from 'kysely'
import type { CanonicalEvent } from '../contracts/events.ts'
import { addMoney, normaliseMoney } from '../lib/money.ts'
import type { CatalogueServices, PushedSnapshot } from '../plugin-api/catalogue-services.ts'
import { connectorsFor } from './connectors.repo.ts'
import { createOrderServices } from './order-services.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>
type Obj = Record<string, unknown>

/**
 * How long after a push a product.updated matching it counts as its echo. Shops send the webhook
 * within seconds; a day covers a delivery retried after an outage.
 */
export const ECHO_WINDOW_MS = 24 * 3600_000

/** update_product's and sync_channels' reads and writes, walled off by store. */
export function createCatalogueServices(db: Db, storeId: string, secretKey: string): CatalogueServices {
  return {
    async product(productId) {
      const row = await db.selectFrom('products').selectAll().where('store_id', '=', storeId).where('id', '=', productId).executeTakeFirst()
      if (!row) return null
      const variants = await db.selectFrom('variants').selectAll().where('store_id', '=', storeId).where('product_id', '=', productId).orderBy('id').execute()
      const data = JSON.parse(row.data) as Obj
      const description = typeof data.description === 'string' ? data.description : typeof data.body_html === 'string' ? data.body_html : null
      return {
        id: row.id,
        title: row.title,
        status: row.status,
        description,
        updated_at: row.updated_at,
        variants: variants.map((v) => ({ id: v.id, sku: v.sku, price: v.price, compare_at_price: v.compare_at_price ?? null })),
      }
    },
    async updateProduct(productId, patch, at) {
      const row = await db.selectFrom('products').select('data').where('store_id', '=', storeId).where('id', '=', productId).executeTakeFirstOrThrow()
      const data = JSON.parse(row.data) as Obj
      if (patch.description !== undefined) {
        data.description = patch.description
        if ('body_html' in data) data.body_html = patch.description
      }
      if (patch.status !== undefined) data.status = patch.status
      for (const v of patch.variants ?? []) {
        const set: { price?: string; compare_at_price?: string | null } = {}
        if (v.price !== undefined) set.price = v.price
        if (v.compare_at_price !== undefined) set.compare_at_price = v.compare_at_price
        if (Object.keys(set).length > 0) await db.updateTable('variants').set(set).where('store_id', '=', storeId).where('id', '=', v.id).execute()
        // the product's JSON follows, so conditions reading product data see the change
        for (const dv of (Array.isArray(data.variants) ? data.variants : []) as Obj[]) if (String(dv.id) === v.id) Object.assign(dv, set)
      }
      await db
        .updateTable('products')
        .set({ ...(patch.status !== undefined ? { status: patch.status } : {}), data: JSON.stringify(data), updated_at: at.toISOString() })
        .where('store_id', '=', storeId)
        .where('id', '=', productId)
        .execute()
    },
    shopifyAdmin: () => createOrderServices(db, storeId, secretKey).shopifyAdmin(),
    async wooCommerce() {
      // the first WooCommerce connector with an api_url (the site) and an access token `ck_…:cs_…`
      for (const c of await connectorsFor(db, secretKey, storeId, 'woocommerce')) {
        const { apiUrl, accessToken } = c.credentials
        const sep = accessToken?.indexOf(':') ?? -1
        if (!apiUrl || !accessToken || sep <= 0) continue
        return { connectorId: c.id, siteUrl: apiUrl.replace(/\/+$/, ''), consumerKey: accessToken.slice(0, sep), consumerSecret: accessToken.slice(sep + 1) }
      }
      return null
    },
    async pushedChannels(stepKey) {
      const rows = await db.selectFrom('channel_pushes').select('channel').where('store_id', '=', storeId).where('step_key', '=', stepKey).execute()
      return rows.map((r) => r.channel)
    },
    async recordPush(stepKey, channel, productId, snapshot, at) {
      await db
        .insertInto('channel_pushes')
        .values({ store_id: storeId, step_key: stepKey, channel, product_id: productId, snapshot: JSON.stringify(snapshot), pushed_at: at.toISOString() })
        .onConflict((oc) => oc.columns(['store_id', 'step_key', 'channel']).doNothing())
        .execute()
    },
  }
}

/**
 * The echo rule: a product.updated is the shop echoing storeflow's own push, and starts no run,
 * when sync_channels pushed that product in this store within ECHO_WINDOW_MS before `now`, and
 * every field the event carries that storeflow pushes equals what was pushed: `status`,
 * `description` (or `body_html`), and for each of its variants storeflow pushed, `price` and
 * `compare_at_price` (compared as money; `draft` matches a pushed `archived`, which WooCommerce can
 * only hold as `private`, read back as draft). An event carrying none of those fields is not an echo.
 * Any difference (a change made in the shop after the push) makes it a real change.
 */
export async function isChannelEcho(db: Db, event: CanonicalEvent, now: Date): Promise<boolean> {
  if (event.type !== 'product.updated' || event.data.id == null) return false
  const since = new Date(now.getTime() - ECHO_WINDOW_MS).toISOString()
  const pushes = await db
    .selectFrom('channel_pushes')
    .select('snapshot')
    .where('store_id', '=', event.store)
    .where('product_id', '=', String(event.data.id))
    .where('pushed_at', '>=', since)
    .execute()
  return pushes.some((p) => matches(event.data, JSON.parse(p.snapshot) as PushedSnapshot))
}

function matches(data: Obj, pushed: PushedSnapshot): boolean {
  let compared = 0
  if (data.status !== undefined) {
    // WooCommerce has no archived status: storeflow sends `private`, whose webhook reads as draft
    const status = String(data.status)
    if (status !== pushed.status && !(pushed.status === 'archived' && status === 'draft')) return false
    compared++
  }
  const description = data.description ?? data.body_html
  if (description !== undefined && pushed.description !== null) {
    if (String(description) !== pushed.description) return false
    compared++
  }
  for (const v of (Array.isArray(data.variants) ? data.variants : []) as Obj[]) {
    const sent = pushed.variants[String(v.id)]
    if (!sent) continue
    if (v.price !== undefined) {
      if (money(v.price) !== money(sent.price)) return false
      compared++
    }
    if (v.compare_at_price !== undefined) {
      if (money(v.compare_at_price) !== money(sent.compare_at_price)) return false
      compared++
    }
  }
  return compared > 0
}

/** "15.5", 15.5 and "15.50" alike; null for none */
function money(value: unknown): string | null {
  const text = normaliseMoney(value)
  return text === null ? null : addMoney(text, '0')
}

/** a variant's compare_at_price for conditions (product.variants[i].compare_at_price), a number like price; absent when none */
export function compareAtView(v: { compare_at_price?: string | null }): { compare_at_price?: number } {
  return v.compare_at_price == null ? {} : { compare_at_price: Number(v.compare_at_price) }
}
