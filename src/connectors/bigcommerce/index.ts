import type { Connector } from '../types.ts'
import { mapBigCommerceDelivery } from './map.ts'
import { verifyBigCommerce } from './verify.ts'

export { ShopApiError } from './api.ts'

export const bigCommerceConnector: Connector = {
  platform: 'bigcommerce',
  verify: (d, creds, now) => verifyBigCommerce(d, creds, now),
  map: (d, creds, deps) => mapBigCommerceDelivery(d, creds, deps),
}
