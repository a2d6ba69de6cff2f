import type { Kysely, Transaction } from 'kysely'
import type { OrderServices } from '../plugin-api/commerce-services.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** tag_order's and hold_order's writes, walled off by store. */
export function createOrderServices(db: Db, storeId: string): OrderServices {
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
  }
}
