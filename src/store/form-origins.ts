import type { Kysely } from 'kysely'
import type { Database } from './tables.ts'

/**
 * The web origins a store's forms may be posted from by a browser (CORS): its shop, as its
 * connectors name it: `https://<shop_domain>` of every connector that has one, and the origin of a
 * WooCommerce connector's `api_url` (WooCommerce's API lives on the shop's own site).
 */
export async function shopOrigins(db: Kysely<Database>, storeId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('connectors').select(['platform', 'shop_domain', 'api_url']).where('store_id', '=', storeId).execute()
  const origins = new Set<string>()
  for (const row of rows) {
    if (row.shop_domain) {
      const origin = originOf(`https://${row.shop_domain}`)
      if (origin) origins.add(origin)
    }
    if (row.platform === 'woocommerce' && row.api_url) {
      const origin = originOf(row.api_url)
      if (origin) origins.add(origin)
    }
  }
  return origins
}

function originOf(url: string): string | null {
  try {
    const u = new URL(url)
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null
  } catch {
    return null
  }
}
