/** Discount codes and loyalty points (migration 0010): see store/discounts.repo.ts and store/loyalty.repo.ts. */

export interface DiscountCodesTable {
  store_id: string
  /** upper case */
  code: string
  /** percent | amount | free_shipping */
  kind: string
  /** the percent, the amount (exact decimal), or '0' for free shipping alone */
  value: string
  free_shipping: number
  min_spend: string | null
  expires_at: string | null
  usage_limit: number
  /** orders that carried the code, recounted from discount_code_uses */
  used: number
  customer_key: string | null
  workflow_id: string | null
  run_id: string | null
  step_key: string | null
  /** what the code counts against its workflow's budget (exact decimal) */
  issued_value: string
  created_at: string
}

export interface DiscountCodeUsesTable {
  store_id: string
  code: string
  order_id: string
  created_at: string
}

export interface LoyaltyLedgerTable {
  store_id: string
  /** `<run id>:<step key>` for an award, `reverse:<order id>` for a reversal */
  entry_key: string
  customer_key: string
  points: number
  reason: string | null
  order_id: string | null
  run_id: string | null
  step_key: string | null
  created_at: string
}
