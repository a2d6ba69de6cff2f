import type { ActionServices, CatalogueProduct, ShopifyAdmin } from '../../plugin-api/index.ts'
import { PermanentError } from '../../plugin-api/index.ts'
import { shopifyGraphql, shopifyLabel, type ShopifyUserError, userErrorText } from '../shared/shopify-graphql.ts'

/**
 * One GraphQL document with Shopify's two mutations (shopify.dev/docs/api/admin-graphql/2025-01):
 * `productUpdate(product: ProductUpdateInput!)` for `descriptionHtml` and `status`
 * (ACTIVE | DRAFT | ARCHIVED), and `productVariantsBulkUpdate(productId, variants: [{ id, price,
 * compareAtPrice }])` for the prices (Decimal strings; compareAtPrice null removes it). Both set
 * values, so sending them again changes nothing. Errors and throttling: shared/shopify-graphql.ts.
 */
const SYNC_PRODUCT = `mutation syncProduct($product: ProductUpdateInput!, $productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productUpdate(product: $product) { product { id } userErrors { field message } }
  productVariantsBulkUpdate(productId: $productId, variants: $variants) { productVariants { id } userErrors { field message } }
}`

const gid = (kind: string, id: string) => (id.startsWith('gid://') ? id : `gid://shopify/${kind}/${id}`)

export async function pushToShopify(http: ActionServices['http'], admin: ShopifyAdmin, product: CatalogueProduct, idempotencyKey: string): Promise<void> {
  const productId = gid('Product', product.id)
  const data = await shopifyGraphql<{
    productUpdate: { userErrors: ShopifyUserError[] } | null
    productVariantsBulkUpdate: { userErrors: ShopifyUserError[] } | null
  }>(http, admin, {
    query: SYNC_PRODUCT,
    variables: {
      product: {
        id: productId,
        status: product.status.toUpperCase(),
        ...(product.description !== null ? { descriptionHtml: product.description } : {}),
      },
      productId,
      variants: product.variants.map((v) => ({ id: gid('ProductVariant', v.id), price: v.price, compareAtPrice: v.compare_at_price })),
    },
    idempotencyKey,
    scopes: 'write_products',
  })
  const errors = [...(data.productUpdate?.userErrors ?? []), ...(data.productVariantsBulkUpdate?.userErrors ?? [])]
  if (errors.length > 0) throw new PermanentError(`${shopifyLabel(admin)}: ${userErrorText(errors)}`)
}
