/** sync_channels' per-step, per-channel record (migration 0019). */
export interface ChannelPushesTable {
  store_id: string
  /** the step's idempotency key (`runId:stepKey`) */
  step_key: string
  channel: string
  product_id: string
  /** JSON: what was pushed ({ status, description, variants: { id: { price, compare_at_price } } }) */
  snapshot: string
  pushed_at: string
}
