/** Tables of migration 0017 (remote services); see that file for what each column means. */

export interface IntegrationsTable {
  store_id: string
  kind: string
  api_url: string | null
  /** sealed JSON object of secrets (lib/secret-box.ts) */
  credentials: string
  /** JSON object, not secret */
  config: string
  created_at: string
  updated_at: string
}

export interface ShippingLabelsTable {
  store_id: string
  run_id: string
  step_key: string
  order_id: string | null
  status: 'pending' | 'bought'
  rate_id: string
  carrier: string
  service: string
  amount: string
  currency: string
  estimated_days: number | null
  transaction_id: string | null
  tracking_number: string | null
  label_url: string | null
  created_at: string
}

export interface AudienceMembersTable {
  store_id: string
  audience_id: string
  customer_key: string
  email_hash: string
  state: 'added' | 'removed'
  synced_at: string
}

export interface SocialPostsTable {
  store_id: string
  run_id: string
  step_key: string
  status: 'pending' | 'posted'
  text: string
  updates: string
  created_at: string
}

/** Columns migration 0017 adds to `orders`. */
export interface OrderShipmentColumns {
  estimated_delivery_at: import('kysely').Generated<string | null>
  shipment_status: import('kysely').Generated<string | null>
  /** occurred_at of the shipment.updated the two fields above come from */
  shipment_updated_at: import('kysely').Generated<string | null>
}
