import type { Generated } from 'kysely'

/** Columns migration 0012 adds to `orders` (see its header for their meaning). */
export interface OrderCommerceColumns {
  /** JSON list of tag_order's tags */
  tags: Generated<string>
  /** 1 once hold_order held the order for review */
  held: Generated<number>
  held_reason: Generated<string | null>
  /** JSON { score, level, reasons } (core/order-risk.ts); null before the order is projected by this version */
  risk: Generated<string | null>
  /** 0 stock untouched, 1 decremented, 2 settled (store/order-stock.ts) */
  stock_state: Generated<number>
  /** JSON [{ sku, quantity }] subtracted by this order */
  stock_lines: Generated<string | null>
}

/** Columns migration 0012 adds to `customers` (store/engagement.ts keeps them). */
export interface CustomerEngagementColumns {
  /** marketing messages sent (status sent) after the customer's last order, or ever when none */
  marketing_sent_since_last_order: Generated<number>
  /** occurred_at of the newest message.opened / message.clicked about the customer */
  last_opened_at: Generated<string | null>
  last_clicked_at: Generated<string | null>
}

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
