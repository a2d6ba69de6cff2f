/** The store's orders as actions may change them (tag_order, hold_order). */
export interface OrderServices {
  /** adds tags to the store's order; answers the tags that were new, or null when the store has no such order */
  addTags(orderId: string, tags: string[]): Promise<string[] | null>
  /** marks the order held for review in storeflow's view; false when the store has no such order */
  hold(orderId: string, reason: string): Promise<boolean>
  /** the store's Shopify Admin API credentials (a Shopify connector with an access token), or null */
  shopifyAdmin(): Promise<ShopifyAdmin | null>
}

export interface ShopifyAdmin {
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
