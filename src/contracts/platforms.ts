/**
 * The shops storeflow connects to: the names in `/webhooks/:platform/:store` and
 * `connectors add --platform`. The connector registry has one connector for each (its type says so).
 */
export const PLATFORMS = ['shopify', 'woocommerce', 'bigcommerce'] as const

export type Platform = (typeof PLATFORMS)[number]
