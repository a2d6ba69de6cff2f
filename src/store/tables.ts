import type { SuppliersTable, PurchaseOrdersTable, PurchaseOrderCountersTable, PurchaseOrderReceiptsTable } from './purchasing-tables.ts'
import type { Generated } from 'kysely'
import type { DiscountCodesTable, DiscountCodeUsesTable, LoyaltyLedgerTable } from './commerce-tables.ts'

export type { DiscountCodesTable, DiscountCodeUsesTable, LoyaltyLedgerTable } from './commerce-tables.ts'
export type { SuppliersTable, PurchaseOrdersTable, PurchaseOrderCountersTable, PurchaseOrderReceiptsTable } from './purchasing-tables.ts'
import type { InventoryAdjustmentsTable, InventorySkusTable, OrderDemandTable, SkuDailyDemandTable } from './inventory-tables.ts'
import type { CustomerEngagementColumns, OrderCommerceColumns } from './commerce-tables.ts'
import type { AuditLogTable } from './audit-log.repo.ts'
import type { SignInFailuresTable } from './sign-in-failures.repo.ts'
import type { CountersTable, WorkersTable } from './workers.repo.ts'
import type { AudienceMembersTable, IntegrationsTable, OrderShipmentColumns, ShippingLabelsTable, SocialPostsTable } from './remote-tables.ts'

/**
 * Table types: the one declaration of the schema the migrations build. Times are ISO-8601 UTC strings (sortable as text on both dialects), JSON is text,
 * booleans are 0/1 integers, money is an exact decimal string. Every business table has store_id.
 */
export interface Database {
  integrations: IntegrationsTable
  shipping_labels: ShippingLabelsTable
  audience_members: AudienceMembersTable
  social_posts: SocialPostsTable
  stores: StoresTable
  api_keys: ApiKeysTable
  events: EventsTable
  customers: CustomersTable
  orders: OrdersTable
  carts: CartsTable
  products: ProductsTable
  variants: VariantsTable
  channel_pushes: ChannelPushesTable
  inventory_levels: InventoryLevelsTable
  workflows: WorkflowsTable
  workflow_versions: WorkflowVersionsTable
  runs: RunsTable
  run_steps: RunStepsTable
  correlations: CorrelationsTable
  messages: MessagesTable
  templates: TemplatesTable
  connectors: ConnectorsTable
  webhook_deliveries: WebhookDeliveriesTable
  connector_signature_failures: ConnectorSignatureFailuresTable
  privacy_exports: PrivacyExportsTable
  pending_fulfilments: PendingFulfilmentsTable
  customer_aliases: CustomerAliasesTable
  schedules: SchedulesTable
  event_routers: EventRoutersTable
  subscriptions: SubscriptionsTable
  invoices: InvoicesTable
  invoice_counters: InvoiceCountersTable
  suppliers: SuppliersTable
  purchase_orders: PurchaseOrdersTable
  purchase_order_counters: PurchaseOrderCountersTable
  purchase_order_receipts: PurchaseOrderReceiptsTable
  discount_codes: DiscountCodesTable
  discount_code_uses: DiscountCodeUsesTable
  loyalty_ledger: LoyaltyLedgerTable
  segments: SegmentsTable
  segment_members: SegmentMembersTable
  rfm_cuts: RfmCutsTable
  sku_daily_demand: SkuDailyDemandTable
  order_demand: OrderDemandTable
  inventory_skus: InventorySkusTable
  inventory_adjustments: InventoryAdjustmentsTable
  attributions: AttributionsTable
  workflow_stats_daily: WorkflowStatsDailyTable
  audit_log: AuditLogTable
  sign_in_failures: SignInFailuresTable
  workers: WorkersTable
  storeflow_counters: CountersTable
  workflow_entries: WorkflowEntriesTable
}

export interface StoresTable {
  id: string
  name: string
  currency: string
  timezone: string
  settings: string
  created_at: string
}

export interface ApiKeysTable {
  id: string
  store_id: string
  scope: string
  key_hash: string
  prefix: string
  created_at: string
  revoked_at: string | null
}

export interface EventsTable {
  seq: Generated<number>
  store_id: string
  id: string
  type: string
  occurred_at: string
  received_at: string
  customer_key: string | null
  historical: number
  source: string
  data: string
  /** PostgreSQL: the appending transaction's id (log order); SQLite: 0 */
  tx_id: Generated<number>
}

/** A store's router: its position in the event log and the lease of the process routing it. */
export interface EventRoutersTable {
  store_id: string
  position_tx: number
  position_seq: number
  owner: string | null
  lease_until: string | null
}

export interface CustomersTable extends CustomerEngagementColumns {
  key: string
  store_id: string
  external_id: string | null
  email: string | null
  phone: string | null
  first_name: string | null
  last_name: string | null
  accepts_marketing: number
  unsubscribed_at: string | null
  birthday: string | null
  timezone: string | null
  tags: string
  orders_count: number
  total_spent: string
  last_order_at: string | null
  attributes: string
  /** occurred_at of the newest event whose profile fields were applied (out-of-order guard) */
  profile_at: string | null
  /** occurred_at of the newest explicit newsletter.subscribed/unsubscribed applied; null when none */
  consent_at: string | null
  /** the shop's accepts_marketing (0/1) as the newest customer data carrying it said; null when never said */
  shop_accepts_marketing: number | null
  /** occurred_at of the event that set shop_accepts_marketing */
  shop_accepts_marketing_at: string | null
  /** the sum of the customer's loyalty_ledger entries */
  loyalty_points: Generated<number>
  created_at: string
  updated_at: string
  /** JSON list of the ids of the segments the customer is in now (store/segments.repo.ts) */
  segments: Generated<string>
  /** JSON `{ r, f, m, score }`; null without an order */
  rfm: string | null
}

export interface OrdersTable extends OrderCommerceColumns, OrderShipmentColumns {
  store_id: string
  id: string
  customer_key: string | null
  number: string | null
  currency: string
  total_price: string
  /** the amount counted into the customer's total_spent: total minus refunds, 0 when cancelled */
  counted_amount: string
  refunded: string
  cancelled: number
  financial_status: string | null
  fulfillment_status: string | null
  checkout_id: string | null
  /** time of the ranked fulfillment_status (delivered > fulfilled): the earliest seen for it */
  fulfillment_at: string | null
  data: string
  created_at: string
  /** occurred_at of the newest event applied to this order */
  updated_at: string
}

export interface CartsTable {
  store_id: string
  id: string
  customer_key: string | null
  currency: string
  total_price: string
  data: string
  updated_at: string
  converted: number
  /** the cart's own email, else its customer's (0009) */
  email: string | null
}

export interface SubscriptionsTable {
  store_id: string
  id: string
  customer_key: string | null
  plan: string
  price: string
  interval: string
  status: string
  next_renewal_at: string | null
  /** next_renewal_at as a UTC instant; a bare date is 00:00 UTC */
  renews_at: string | null
  data: string
  updated_at: string
}

export interface ProductsTable {
  store_id: string
  id: string
  title: string
  status: string
  data: string
  updated_at: string
}

export interface VariantsTable {
  store_id: string
  id: string
  product_id: string
  sku: string | null
  price: string
  inventory_quantity: number | null
  /** 0019: set by update_product */
  compare_at_price?: string | null
}

export interface InventoryLevelsTable {
  store_id: string
  sku: string
  location_id: string
  available: number
  updated_at: string
}

export interface WorkflowsTable {
  store_id: string
  id: string
  name: string
  active: number
  version: number
  trigger_type: string
  created_at: string
  updated_at: string
}

export interface WorkflowVersionsTable {
  store_id: string
  workflow_id: string
  version: number
  source: string
  format: string
  definition: string
  created_at: string
}

export interface RunsTable {
  id: string
  store_id: string
  workflow_id: string
  workflow_version: number
  status: string
  trigger_event_seq: number
  trigger_event_id: string
  customer_key: string | null
  customer_id: string | null
  customer_email: string | null
  holdout: number
  /** cursor, loop frames and step outputs (RunState in engine/ports.ts) */
  state: string
  /** when a worker should next look at the run; null while it waits only for an event, or has ended */
  due_at: string | null
  /** seq of the event that satisfied the current wait_for, set by ingest */
  signal_event_seq: number | null
  lease_owner: string | null
  lease_until: string | null
  /** optimistic concurrency: every state change bumps it */
  version: number
  started_at: string
  ended_at: string | null
  updated_at: string
}

export interface RunStepsTable {
  run_id: string
  store_id: string | null
  step_key: string
  seq: number
  step_id: string
  type: string
  status: string
  attempts: number
  input: string | null
  output: string | null
  error: string | null
  started_at: string
  ended_at: string | null
  wake_at: string | null
}

export interface CorrelationsTable {
  id: Generated<number>
  store_id: string
  run_id: string
  event_type: string
  /** the customer key the wait listens on, or '*' when the run has no customer */
  corr_key: string
  purpose: string
  /** index of the exit_when goal, or the pc of the wait_for step */
  ref: number
}

export interface MessagesTable {
  id: string
  store_id: string
  idempotency_key: string
  run_id: string | null
  step_key: string | null
  workflow_id: string | null
  customer_key: string | null
  channel: string
  category: string
  to_addr: string
  from_addr: string | null
  subject: string | null
  html: string | null
  text: string | null
  headers: string
  status: string
  error: string | null
  message_id: string | null
  opens: number
  clicks: number
  created_at: string
  sent_at: string | null
  /** migration 0021: the first open, the first click, the first unsubscribe through its link (insight's unique counts) */
  first_opened_at: Generated<string | null>
  first_clicked_at: Generated<string | null>
  unsubscribed_at: Generated<string | null>
  /** migration 0029: hand-overs cut off before the far side answered (each may have delivered a copy) */
  handovers: Generated<number>
  /** of those, the ones the sender saw cut off by the connection (not ended by its own death) */
  handovers_cut: Generated<number>
}

export interface TemplatesTable {
  store_id: string
  name: string
  subject: string
  html: string
  preheader: string | null
  updated_at: string
}

// Connectors, their webhook deliveries and privacy exports

export interface ConnectorsTable {
  id: string
  store_id: string
  /** shopify | woocommerce | bigcommerce */
  platform: string
  /** sealed JSON array of 1–2 webhook secrets (lib/secret-box.ts); never returned by the API */
  secrets: string
  shop_domain: string | null
  api_url: string | null
  /** sealed, or null */
  access_token: string | null
  created_at: string
  updated_at: string
}

export interface WebhookDeliveriesTable {
  id: string
  connector_id: string
  store_id: string
  platform: string
  topic: string
  /** JSON object, lower-cased names; credentials-bearing headers left out */
  headers: string
  /** the raw body as UTF-8 text */
  body: string
  verified: number
  verify_error: string | null
  dedupe_key: string | null
  delivery_id: string | null
  unknown_topic: number
  /** processed | duplicate | failed */
  status: string
  /** JSON: { events: [{ id, type, duplicate, runs }], compliance?, export_id? } */
  result: string
  error: string | null
  received_at: string
  processed_at: string | null
}

export interface ConnectorSignatureFailuresTable {
  connector_id: string
  hour: string
  count: number
  last_at: string
  last_reason: string | null
}

export interface PrivacyExportsTable {
  id: string
  store_id: string
  customer_ref: string
  customer_key: string | null
  delivery_id: string | null
  data: string
  created_at: string
}

/** order.fulfilled / order.delivered seen before any order.* event of their order */
export interface PendingFulfilmentsTable {
  store_id: string
  order_id: string
  /** fulfilled | delivered: the highest seen */
  status: string
  /** the earliest time seen for that status */
  at: string
}

/** A customer key merged away (store/projection.ts), forwarding to the customer that absorbed it. */
export interface CustomerAliasesTable {
  alias_key: string
  store_id: string
  customer_key: string
  created_at: string
}

export interface SchedulesTable {
  store_id: string
  key: string
  workflow_id: string | null
  cron: string
  timezone: string
  next_at: string | null
  last_at: string | null
  updated_at: string
}

export interface InvoicesTable {
  store_id: string
  id: string
  number: string
  customer_key: string | null
  email: string | null
  currency: string
  /** JSON list of { description, quantity, unit_price, amount } */
  lines: string
  total: string
  amount_paid: Generated<string>
  status: string
  issued_at: string
  due_at: string
  paid_at: string | null
  reference: string | null
  workflow_id: string | null
  run_id: string | null
  step_key: string | null
}

export interface InvoiceCountersTable {
  store_id: string
  last_number: number
}

/** A store's own segment: a CEL condition over `customer` (the built-in ones are code). */
export interface SegmentsTable {
  store_id: string
  id: string
  name: string
  condition: string
  created_at: string
}

/** One row per (segment, customer) ever a member; exited_at null while a member. */
export interface SegmentMembersTable {
  store_id: string
  segment_id: string
  customer_key: string
  /** how many times the customer entered: the n of `segment.entered:<segment>:<customer>:<n>` */
  entries: number
  entered_at: string
  exited_at: string | null
}

/** Per store, where each RFM score starts, from the last full recompute (JSON). */
export interface RfmCutsTable {
  store_id: string
  cuts: string
  computed_at: string
}

export type { ChannelPushesTable } from './channel-tables.ts'
import type { ChannelPushesTable } from './channel-tables.ts'

// Insight (migration 0020-insight): attribution and the analytics counters

export interface AttributionsTable {
  store_id: string
  order_id: string
  customer_key: string
  message_id: string
  run_id: string | null
  workflow_id: string
  step_id: string
  variant: string | null
  /** click | open */
  touch: string
  touched_at: string
  ordered_at: string
  currency: string
  /** the order's total in millionths of its currency */
  amount_micros: number | string | bigint
  /** what refunds took back since, in millionths */
  refunded_micros: Generated<number | string | bigint>
  created_at: string
}

/** Counters per store, workflow, step ('' = the workflow as a whole) and day in the store's time zone. */
export interface WorkflowStatsDailyTable {
  store_id: string
  workflow_id: string
  step_id: string
  day: string
  runs_started: Generated<number | string | bigint>
  runs_completed: Generated<number | string | bigint>
  runs_exited: Generated<number | string | bigint>
  runs_failed: Generated<number | string | bigint>
  sent: Generated<number | string | bigint>
  delivered: Generated<number | string | bigint>
  opened: Generated<number | string | bigint>
  clicked: Generated<number | string | bigint>
  unsubscribed: Generated<number | string | bigint>
  bounced: Generated<number | string | bigint>
  orders: Generated<number | string | bigint>
  revenue_micros: Generated<number | string | bigint>
}

/** Insight's cohort aggregate (0026): one row per run with a customer, kept by store/workflow-entries.repo.ts. */
export interface WorkflowEntriesTable {
  store_id: string
  workflow_id: string
  started_at: string
  run_id: string
  customer_key: string
  holdout: number
  split_key: string | null
  variant: string | null
  prev_at: string | null
  break_at: string | null
  variant_from: string | null
  run_variant: string | null
  run_split_key: string | null
  orders: Generated<number | string | bigint>
  revenue_micros: Generated<number | string | bigint>
  window_ms: number | string | bigint
}
