/** The port send_email uses for `recommendations` in templates (ActionServices.recommendations), implemented in store/recommendations.repo.ts. */

export interface Recommendation {
  sku: string
  /** the shop's product id, from the catalog or the line item; null when neither says */
  product_id: string | null
  /** the product's title, else the line item's, else the SKU */
  title: string
  /** best is highest: co-purchases in (0.5, 1], popular SKUs in (0, 0.5] */
  score: number
}

export interface RecommendationServices {
  /** "bought together" SKUs for the customer, best first, at most `limit` */
  forCustomer(customerKey: string, limit: number): Promise<Recommendation[]>
}
