import { parseWorkflow } from '../../src/core/workflow/parse.ts'
import type { App } from '../../src/main.ts'
import { saveWorkflow } from '../../src/store/workflows.repo.ts'

/** Saves and activates a workflow from YAML, as `storeflow workflows import` does. */
export async function installWorkflow(app: App, yaml: string): Promise<void> {
  const parsed = parseWorkflow(yaml, (t) => app.actions.get(t))
  parsed.file.active = true
  await saveWorkflow(app.handle.db, 'default', parsed, yaml, app.clock.now())
}

/**
 * Ten active workflows a shop might run: six listen to order.paid (the event the load sends),
 * two to customer.created, two to checkout.started; each with a `when`, most with a wait.
 */
export const TEN_WORKFLOWS: string[] = [
  `id: vip-after-big-order
name: VIP after a big order
trigger: { event: order.paid }
when: 'double(event.data.total_price) > 100.0'
steps:
  - wait: 1d
  - action: tag_customer
    with: { tags: [vip] }`,
  `id: first-order-follow-up
name: First order follow-up
trigger: { event: order.paid }
when: 'customer.orders_count == 1'
steps:
  - wait: 3d
  - action: tag_customer
    with: { tags: [first-buyer] }`,
  `id: usd-orders-log
name: Log USD orders
trigger: { event: order.paid }
when: 'event.data.currency == "USD"'
steps:
  - action: log
    with: { message: 'USD order paid' }`,
  `id: bulk-buyer
name: Bulk buyer
trigger: { event: order.paid }
when: 'size(event.data.line_items) >= 3'
steps:
  - wait: 2h
  - action: tag_customer
    with: { tags: [bulk-buyer] }`,
  `id: german-review-request
name: German review request
trigger: { event: order.paid }
when: 'event.data.shipping_address.country_code == "DE"'
steps:
  - wait: 7d
  - action: log
    with: { message: 'ask for a review' }`,
  `id: loyal-spender
name: Loyal spender
trigger: { event: order.paid }
when: 'customer.total_spent > 500.0'
steps:
  - action: tag_customer
    with: { tags: [loyal] }`,
  `id: welcome
name: Welcome new subscribers
trigger: { event: customer.created }
when: 'customer.accepts_marketing'
steps:
  - wait: 1h
  - action: tag_customer
    with: { tags: [welcomed] }`,
  `id: new-customer-log
name: Log new customers
trigger: { event: customer.created }
when: 'event.data.email != ""'
steps:
  - action: log
    with: { message: 'new customer' }`,
  `id: checkout-nudge
name: Checkout nudge
trigger: { event: checkout.started }
when: 'double(event.data.total_price) > 50.0'
steps:
  - wait: 4h
  - action: tag_customer
    with: { tags: [abandoned-checkout] }`,
  `id: checkout-log
name: Checkout log
trigger: { event: checkout.started }
when: 'event.data.currency == "USD"'
steps:
  - wait: 1h
  - action: log
    with: { message: 'checkout started' }`,
]

/** One step, the end-to-end benchmark's workflow: an order paid tags its customer. */
export const ONE_STEP = `id: one-step
name: One step
trigger: { event: order.paid }
steps:
  - action: tag_customer
    with: { tags: [paid] }`

/** A one-hour wait, then a log: what "lateness" and "worker RSS" measure. */
export const WAIT_ONE_HOUR = `id: wait-one-hour
name: Wait one hour
trigger: { event: order.paid }
steps:
  - wait: 1h
  - action: log
    with: { message: 'an hour later' }`
