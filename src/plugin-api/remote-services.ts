/**
 * The ports the remote-service actions use (ActionServices.remote): create_shipping_label,
 * post_social, sync_audience, and notify_team's store webhook. Implemented in store/remote-services.ts, bound to the run's store:
 * an action of store A can only ever read A's credentials.
 */

/** A store's account with a remote API: its base URL (overridable, still called through the guarded client) and secrets. */
export interface RemoteAccount {
  apiUrl: string
  credentials: Record<string, string>
  config: Record<string, unknown>
}

/** The label a step chose (`pending`: the purchase may or may not have happened) or bought. */
export interface StepLabel {
  status: 'pending' | 'bought'
  orderId: string | null
  rateId: string
  carrier: string
  service: string
  amount: string
  currency: string
  estimatedDays: number | null
  transactionId: string | null
  trackingNumber: string | null
  labelUrl: string | null
}

export interface StepPost {
  status: 'pending' | 'posted'
  text: string
  updates: Array<{ profile_id: string; update_id: string }>
}

export interface AudienceChange {
  customerKey: string
  /** SHA-256 hex of the normalised email */
  emailHash: string
  /**
   * A removal whose hash stays in the audience: another current member has the same email. The
   * customer is marked removed; the hash is not sent.
   */
  stays?: boolean
}

export interface RemoteServices {
  /** the store's integration of this kind, secrets opened, or null when it has none */
  account(kind: 'shippo' | 'buffer' | 'meta_ads' | 'team_chat'): Promise<RemoteAccount | null>
  /** the label the step `(runId, stepKey)` chose or bought, or null */
  stepLabel(runId: string, stepKey: string): Promise<StepLabel | null>
  /** records the step's chosen rate before buying it, or marks it bought; one row per step */
  saveStepLabel(runId: string, stepKey: string, label: StepLabel): Promise<void>
  /**
   * What sync_audience must send for the segment to the audience: `add` for current members
   * with an email not sent as added since they entered, `remove` for customers sent as added
   * who are no longer members (`stays` when a current member has the same email), and `retract`:
   * the hashes of the old emails of members in `add` whose email changed since they were sent,
   * that no current member has. At most `limit` of add and remove. With `consentOnly`, a member
   * counts only while they accept marketing: one who withdrew consent is removed like one who left.
   */
  audienceChanges(
    segmentId: string,
    audienceId: string,
    limit: number,
    options?: { consentOnly?: boolean },
  ): Promise<{ add: AudienceChange[]; remove: AudienceChange[]; retract: string[] }>
  /** records that these customers were sent to the audience in this state */
  markAudience(audienceId: string, state: 'added' | 'removed', changes: AudienceChange[]): Promise<void>
  /** post_social's record of the step: `pending` (text chosen, the call may have happened) or `posted` */
  stepPost(runId: string, stepKey: string): Promise<StepPost | null>
  saveStepPost(runId: string, stepKey: string, post: StepPost): Promise<void>
  /** whether the store has this segment (built in or its own) */
  segmentExists(segmentId: string): Promise<boolean>
}
