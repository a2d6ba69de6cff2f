import type { Kysely, Transaction } from 'kysely'
import type { OrderServices } from '../plugin-api/commerce-services.ts'
import { connectorsFor } from './connectors.repo.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** tag_order's and hold_order's writes, walled off by store. */
/** The Admin API version storeflow speaks when a connector's api_url names none. */
export const SHOPIFY_ADMIN_API_VERSION = '2025-01'

export function createOrderServices(db: Db, storeId: string, secretKey: string): OrderServices {
  return {
    async addTags(orderId, tags) {
      const row = await db.selectFrom('orders').select('tags').where('store_id', '=', storeId).where('id', '=', orderId).executeTakeFirst()
      if (!row) return null
      const current = JSON.parse(row.tags) as string[]
      const added = [...new Set(tags)].filter((t) => !current.includes(t))
      if (added.length > 0) {
        await db
          .updateTable('orders')
          .set({ tags: JSON.stringify([...current, ...added]) })
          .where('store_id', '=', storeId)
          .where('id', '=', orderId)
          .execute()
      }
      return added
    },
    async hold(orderId, reason) {
      const result = await db
        .updateTable('orders')
        .set({ held: 1, held_reason: reason })
        .where('store_id', '=', storeId)
        .where('id', '=', orderId)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async shopifyAdmin() {
      // the first Shopify connector with an access token; its api_url is the Admin API base
      // (https://SHOP/admin/api/VERSION), else https://<shop_domain> with SHOPIFY_ADMIN_API_VERSION
      for (const c of await connectorsFor(db, secretKey, storeId, 'shopify')) {
        const { accessToken, apiUrl, shopDomain } = c.credentials
        if (!accessToken || (!apiUrl && !shopDomain)) continue
        const base = (apiUrl ?? `https://${shopDomain}`).replace(/\/+$/, '')
        const graphqlUrl = /\/admin\/api\/[^/]+$/.test(base) ? `${base}/graphql.json` : `${base}/admin/api/${SHOPIFY_ADMIN_API_VERSION}/graphql.json`
        return { connectorId: c.id, graphqlUrl, accessToken }
      }
      return null
    },
  }
}
