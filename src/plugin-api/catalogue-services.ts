import type { ShopifyAdmin } from './commerce-services.ts'

/** The catalogue and sales channels as update_product and sync_channels use them (ActionServices.catalogue). */
export interface CatalogueVariant {
  id: string
  sku: string | null
  price: string
  compare_at_price: string | null
}

export interface CatalogueProduct {
  id: string
  title: string
  status: string
  description: string | null
  updated_at: string
  variants: CatalogueVariant[]
}

export interface ProductPatch {
  status?: string
  description?: string
  /** per variant id: the new price and/or compare-at price (null clears it) */
  variants?: Array<{ id: string; price?: string; compare_at_price?: string | null }>
}

/** A store's WooCommerce REST credentials (its connector's api_url and `consumer_key:consumer_secret` access token). */
export interface WooCommerceAccount {
  connectorId: string
  siteUrl: string
  consumerKey: string
  consumerSecret: string
}

/** What a channel was sent for a product: the echo of it is recognised by this (store/channel-sync.ts). */
export interface PushedSnapshot {
  status: string
  description: string | null
  variants: Record<string, { price: string; compare_at_price: string | null }>
}

export interface CatalogueServices {
  /** the product as the store's catalogue has it, or null */
  product(productId: string): Promise<CatalogueProduct | null>
  /** applies the patch and sets the product's updated_at to `at` (older product.updated events then change nothing) */
  updateProduct(productId: string, patch: ProductPatch, at: Date): Promise<void>
  shopifyAdmin(): Promise<ShopifyAdmin | null>
  wooCommerce(): Promise<WooCommerceAccount | null>
  /** the channels step `stepKey` already pushed to */
  pushedChannels(stepKey: string): Promise<string[]>
  /** records that the channel accepted this step's push */
  recordPush(stepKey: string, channel: string, productId: string, snapshot: PushedSnapshot, at: Date): Promise<void>
}
