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
