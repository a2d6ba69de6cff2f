import type { OutboundClient } from '../lib/guarded-request.ts'
import type { DiscountServices, LoyaltyServices, OrderServices, RunControl } from './commerce-services.ts'
import type { PurchasingServices } from './purchasing-services.ts'
import type { InventoryServices } from './inventory-services.ts'
import type { RemoteServices } from './remote-services.ts'
import type { RecommendationServices } from './recommendation-services.ts'
import type { CatalogueServices } from './catalogue-services.ts'

/**
 * The ports an action may use. The engine hands an action services bound to the right
 * transaction: for `internal` actions, the one that also records the step's output.
 */
export interface OutboxMessage {
  idempotencyKey: string
  runId: string | null
  stepKey: string | null
  workflowId: string | null
  customerKey: string | null
  channel: 'email' | 'sms' | 'chat'
  category: 'transactional' | 'marketing'
  to: string
  from?: string | null
  subject?: string | null
  html?: string | null
  text?: string | null
  headers?: Record<string, string>
  status: 'queued' | 'sending' | 'sent' | 'deferred' | 'skipped' | 'failed' | 'bounced'
  error?: string | null
  messageId?: string | null
  /** hand-overs started whose answer never came (each may have delivered a copy); 0 when none */
  handovers?: number
  /** of those, the ones the sender saw cut off by the connection (the rest ended with the sender) */
  handoversCut?: number
}

export interface StoredMessage extends OutboxMessage {
  id: string
  createdAt: string
  sentAt: string | null
}

export interface EmittedEvent {
  id?: string
  type: string
  occurred_at?: string
  data: Record<string, unknown>
}

/** A stored message template (subject, HTML and preheader are Liquid). */
export interface MessageTemplate {
  name: string
  subject: string
  html: string
  preheader?: string | null
}

/** An invoice create_invoice asks for; the number and id are the store's to give. */
export interface InvoiceRequest {
  customerKey: string | null
  email: string | null
  currency: string
  lines: Array<{ description: string; quantity: number; unit_price: string; amount: string }>
  total: string
  issuedAt: string
  dueAt: string
  reference: string | null
  workflowId: string | null
  runId: string
  stepKey: string
}

export interface CreatedInvoice {
  id: string
  number: string
  status: string
  total: string
  currency: string
  issued_at: string
  due_at: string
  lines: InvoiceRequest['lines']
}

export interface ActionServices {
  /** stored templates for `send_email { template: NAME }`: the store's own, else the built-in files */
  templates: {
    load(storeId: string, name: string): Promise<MessageTemplate | null>
  }
  invoices: {
    /** makes the step's invoice, numbered per store; on a retried step, the one it made before (`created: false`) */
    create(request: InvoiceRequest): Promise<{ invoice: CreatedInvoice; created: boolean }>
  }
  customers: {
    addTags(customerKey: string, tags: string[]): Promise<string[]>
    removeTags(customerKey: string, tags: string[]): Promise<string[]>
  }
  orders: OrderServices
  /** credentials and step state of the remote-service actions (plugin-api/remote-services.ts) */
  remote: RemoteServices
  /** the engine adds it for the actions it runs (absent from storage's own services) */
  runs?: RunControl
  messages: {
    /** inserts the message keyed by `idempotencyKey`; returns the existing row when there is one */
    record(message: OutboxMessage): Promise<{ message: StoredMessage; created: boolean }>
    /**
     * when this customer was last sent a marketing message (sent, not skipped), or null. The cap is
     * one marketing message per customer across channels (docs/workflows.md, Guardrails): `channel` is the asking
     * channel, for logs; every channel counts.
     */
    lastMarketingSentAt(customerKey: string, channel: OutboxMessage['channel']): Promise<Date | null>
    /**
     * The frequency cap's atomic step: unless another marketing message (any channel) to this
     * customer is reserved, sending or sent after `since`, reserves the slot for this one (its
     * `sent_at` is set to `now`; its status is unchanged) and answers true. Two runs sending at
     * once cannot both pass.
     */
    reserveMarketingSlot(messageId: string, customerKey: string, channel: OutboxMessage['channel'], since: Date, now: Date): Promise<boolean>
    update(
      id: string,
      patch: Partial<Pick<OutboxMessage, 'status' | 'error' | 'messageId' | 'handovers' | 'handoversCut'>> & { sentAt?: string },
    ): Promise<void>
  }
  /** discount codes (create_discount_code): plugin-api/commerce-services.ts */
  discounts: DiscountServices
  /** loyalty points (award_loyalty_points): plugin-api/commerce-services.ts */
  loyalty: LoyaltyServices
  /** suppliers, reorder suggestions and purchase orders (create_purchase_order): plugin-api/purchasing-services.ts */
  purchasing: PurchasingServices
  /** the catalogue and sales channels (update_product, sync_channels): plugin-api/catalogue-services.ts */
  catalogue: CatalogueServices
  /** stock levels (adjust_inventory): plugin-api/inventory-services.ts */
  inventory: InventoryServices
  /** "bought together" recommendations (send_email's `recommendations`): plugin-api/recommendation-services.ts */
  recommendations: RecommendationServices
  events: {
    /** ingests an event for this store as if it had been sent to the API (starts runs) */
    emit(event: EmittedEvent): Promise<{ id: string; duplicate: boolean }>
  }
  /**
   * The only way an action calls out over HTTP (webhooks, SMS and chat providers, shop and
   * channel APIs): bound to the operator's policy (STOREFLOW_ALLOW_PRIVATE_HTTP,
   * STOREFLOW_HTTP_TIMEOUT_MS), it checks the address where it connects, never follows a
   * redirect, and caps size and time. `outboundFailure` turns its errors into step outcomes.
   */
  http: OutboundClient
  config: {
    smtpUrl: string | undefined
    allowPrivateHttp: boolean
    publicUrl: string
    secretKey: string
    mailFrom: string
  }
}
