import { bigCommerceConnector } from './bigcommerce/index.ts'
import { shopifyConnector } from './shopify/index.ts'
import type { Connector, Platform } from './types.ts'
import { wooCommerceConnector } from './woocommerce/index.ts'

export { PLATFORMS } from '../contracts/platforms.ts'
export { ShopApiError } from './bigcommerce/index.ts'
export type * from './types.ts'

/** The connectors by platform name, as used in `/webhooks/:platform/:store` and `connectors add --platform`. */
export const CONNECTORS: Readonly<Record<Platform, Connector>> = {
  shopify: shopifyConnector,
  woocommerce: wooCommerceConnector,
  bigcommerce: bigCommerceConnector,
}

export function isPlatform(name: string): name is Platform {
  return Object.hasOwn(CONNECTORS, name)
}

export function connectorFor(platform: Platform): Connector {
  return CONNECTORS[platform]
}
