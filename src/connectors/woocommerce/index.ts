import type { Connector } from '../types.ts'
import { mapWooCommerceDelivery } from './map.ts'
import { verifyWooCommerce } from './verify.ts'

export const wooCommerceConnector: Connector = {
  platform: 'woocommerce',
  verify: (d, creds) => verifyWooCommerce(d, creds),
  map: async (d) => mapWooCommerceDelivery(d),
}
