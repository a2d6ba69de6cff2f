import type { Connector } from '../types.ts'
import { mapShopifyDelivery } from './map.ts'
import { verifyShopify } from './verify.ts'

export const shopifyConnector: Connector = {
  platform: 'shopify',
  verify: (d, creds) => verifyShopify(d, creds),
  map: async (d, creds) => mapShopifyDelivery(d, creds.shopDomain ?? null),
}
