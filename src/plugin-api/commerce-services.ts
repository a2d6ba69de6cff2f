/** The store's orders as actions may change them (tag_order, hold_order); shopifyAdmin also serves create_discount_code. */
export interface OrderServices {
  /** adds tags to the store's order; answers the tags that were new, or null when the store has no such order */
  addTags(orderId: string, tags: string[]): Promise<string[] | null>
  /** marks the order held for review in storeflow's view; false when the store has no such order */
  hold(orderId: string, reason: string): Promise<boolean>
  /** the store's Shopify Admin API credentials (a Shopify connector with an access token), or null */
  shopifyAdmin(): Promise<ShopifyAdmin | null>
}

export interface ShopifyAdmin {
  /** the connector the credentials come from, so an error can name it */
  connectorId: string
  /** the GraphQL Admin API endpoint, `https://SHOP/admin/api/VERSION/graphql.json` */
  graphqlUrl: string
  accessToken: string
}

/** Runs of the store as actions may end them (cancel_runs); the engine's run lifecycle does the ending. */
export interface RunControl {
  /**
   * Cancels the customer's running and waiting runs of the workflows `workflowIds` (when absent:
   * of every workflow but `exceptWorkflowId`), never the run `exceptRunId`. Answers how many it cancelled.
   */
  cancelCustomerRuns(customerKey: string, filter: { workflowIds?: string[]; exceptWorkflowId?: string; exceptRunId: string }): Promise<number>
}

/**
 * The ports `create_discount_code` and `award_loyalty_points` use (ActionServices.discounts and
 * .loyalty), implemented in store/discounts.repo.ts and store/loyalty.repo.ts. Money is an exact
 * decimal string.
 */

export type DiscountKind = 'percent' | 'amount' | 'free_shipping'

export interface DiscountCodeRequest {
  /** the run step issuing the code: one code per step, however often the step is tried */
  runId: string
  stepKey: string
  workflowId: string
  customerKey: string | null
  kind: DiscountKind
  /** the percent or the amount; '0' for free shipping alone */
  value: string
  freeShipping: boolean
  minSpend: string | null
  expiresAt: string | null
  usageLimit: number
  /** what this code counts against the workflow's budget */
  issuedValue: string
  /** the total the workflow's codes in this store may count, or null for no budget */
  budget: string | null
  /** a fresh candidate code; asked again if the store already has the one it gave */
  newCode(): string
}

export interface IssuedDiscountCode {
  code: string
  kind: DiscountKind
  value: string
  freeShipping: boolean
  minSpend: string | null
  expiresAt: string | null
  usageLimit: number
  issuedValue: string
  /** false when the step had issued it already (a retry) */
  created: boolean
}

export type DiscountIssue =
  | { status: 'issued'; code: IssuedDiscountCode }
  /** issuing would take the workflow past its budget: nothing was issued */
  | { status: 'over_budget'; budget: string; issued: string }

export interface DiscountServices {
  /**
   * Issues a code for the step, or answers the one it issued before. With a budget, the check of
   * what the workflow issued and the insert are one atomic step: two runs at once cannot both
   * pass the cap.
   */
  issue(request: DiscountCodeRequest): Promise<DiscountIssue>
}

export interface LoyaltyAward {
  runId: string
  stepKey: string
  customerKey: string
  points: number
  reason: string | null
  /** the order the points are for: reversed when it is cancelled or refunded */
  orderId: string | null
}

export type LoyaltyOutcome =
  | { status: 'awarded'; points: number; balance: number; created: boolean }
  /** the order is already cancelled or refunded: nothing was awarded */
  | { status: 'order_reversed'; orderId: string }

export interface LoyaltyServices {
  /** Records the step's award once (a retry answers the first) and updates the customer's balance. */
  award(award: LoyaltyAward): Promise<LoyaltyOutcome>
}
