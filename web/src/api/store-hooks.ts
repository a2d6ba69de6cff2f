import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api, currentStore, query } from './client.ts'
import { usePagedList } from './paged.ts'
import type { Page } from './types.ts'

/**
 * The store and settings pages' data (customers, orders, inventory, purchasing, discount codes,
 * settings, connectors, keys, users). Every key starts with the store, as in hooks.ts.
 */
const key = (...parts: unknown[]) => ['store', currentStore(), ...parts]

export interface Customer {
  id: string | null
  key: string
  email: string | null
  first_name: string | null
  last_name: string | null
  accepts_marketing: boolean
  unsubscribed_at: string | null
  tags: string[]
  orders_count: number
  total_spent: number
  last_order_at: string | null
  loyalty_points: number
  segments: string[]
  rfm: { r: number; f: number; m: number; score: number | string } | null
  created_at: string
}

export interface LineItem {
  sku?: string | null
  title?: string | null
  quantity?: number
  price?: number
}

export interface Order {
  id: string
  number: string | null
  currency: string
  total_price: number
  line_items: LineItem[]
  financial_status: string | null
  fulfillment_status: string | null
  cancelled: boolean
  created_at: string
  customer_key: string | null
}

export interface Cart {
  id: string
  currency: string
  total_price: number
  line_items: LineItem[]
  converted: boolean
  email: string | null
  updated_at: string
}

export interface Forecast {
  sku: string
  available: number
  daily_demand: number
  method: string
  forecast: Array<{ date: string; quantity: number }>
  days_of_cover: number | null
  reorder_point: number
  suggested_quantity: number
}

export interface Supplier {
  id: string
  name: string
  email: string | null
  lead_time_days: number
  min_order_quantity: number
  skus: string[]
}

export interface PurchaseOrder {
  id: string
  number: string
  supplier_id: string
  status: 'draft' | 'sent' | 'received' | (string & {})
  lines: Array<{ sku: string; quantity: number; unit_cost?: number | string | null; description?: string | null; received?: number }>
  created_at: string
  sent_at?: string | null
  received_at?: string | null
}

export interface DiscountCode {
  code: string
  kind: string
  value: number
  min_spend: number | null
  expires_at: string | null
  usage_limit: number | null
  used: number
  customer_id: string | null
  workflow_id: string | null
}

export interface Segment {
  id: string
  name: string
  condition: string
  size: number
}

export type Settings = Record<string, unknown> & {
  store_name: string
  frequency_cap: string | null
  brand: Record<string, unknown>
}

export interface Connector {
  id: string
  store: string
  platform: string
  shop_domain: string | null
  api_url: string | null
  secret_count: number
  access_token_set: boolean
  created_at: string
  /** what to paste into the shop: /webhooks/<platform>/<store> on STOREFLOW_PUBLIC_URL */
  webhook_url?: string
}

export interface Recommendation {
  sku: string
  product_id: string | null
  title: string | null
  score: number
}

export interface ConnectorHealth {
  last_delivery_at: string | null
  deliveries_24h: number
  failures_24h: number
  signature_failures_24h: number
  last_signature_failure_at: string | null
  last_signature_failure_reason: string | null
}

export interface Delivery {
  id: string
  connector_id: string
  platform: string
  topic: string
  status: string
  verified: boolean
  error: string | null
  received_at?: string
  event_ids: string[]
}

export interface ApiKey {
  id: string
  store: string
  scope: string
  prefix: string
  created_at: string
  revoked_at: string | null
}

export interface DashboardUser {
  id: string
  email: string
  role: string
  created_at: string
}

const get =
  <T>(path: string) =>
  () =>
    api<T>(path)

export const useCustomers = (q: string) => usePagedList<Customer>(key('customers', q), '/api/v1/customers', { q })
export const useCustomer = (id: string) => useQuery({ queryKey: key('customer', id), queryFn: get<Customer>(`/api/v1/customers/${encodeURIComponent(id)}`) })
export const useRecommendations = (id: string) =>
  useQuery({ queryKey: key('recommendations', id), queryFn: get<Page<Recommendation>>(`/api/v1/customers/${encodeURIComponent(id)}/recommendations?limit=5`) })
export const useOrders = (customer?: string) => usePagedList<Order>(key('orders', customer ?? ''), '/api/v1/orders', { customer })
export const useCarts = () => usePagedList<Cart>(key('carts'), '/api/v1/carts', {})
export const useSegments = () => useQuery({ queryKey: key('segments'), queryFn: get<Page<Segment>>('/api/v1/segments?limit=500') })
export const useInventory = () => useQuery({ queryKey: key('inventory'), queryFn: get<Page<Forecast>>('/api/v1/inventory/forecast?limit=500') })
export const useForecast = (sku: string, horizon: number) =>
  useQuery({ queryKey: key('forecast', sku, horizon), queryFn: get<Forecast>(`/api/v1/inventory/forecast${query({ sku, horizon })}`) })
export const useSuppliers = () => useQuery({ queryKey: key('suppliers'), queryFn: get<Page<Supplier>>('/api/v1/suppliers?limit=500') })
export const usePurchaseOrders = (status: string) =>
  useQuery({ queryKey: key('purchase-orders', status), queryFn: get<Page<PurchaseOrder>>(`/api/v1/purchase-orders${query({ status, limit: 200 })}`) })
export const useDiscountCodes = () => usePagedList<DiscountCode>(key('discount-codes'), '/api/v1/discount-codes', {})
export const useSettings = () => useQuery({ queryKey: key('settings'), queryFn: get<Settings>('/api/v1/settings') })
export const useConnectors = () => useQuery({ queryKey: key('connectors'), queryFn: get<Page<Connector>>('/api/v1/connectors?limit=100') })
export const useConnectorHealth = (id: string) =>
  useQuery({ queryKey: key('connector-health', id), queryFn: get<ConnectorHealth>(`/api/v1/connectors/${encodeURIComponent(id)}/health`) })
export const useDeliveries = () => usePagedList<Delivery>(key('deliveries'), '/api/v1/deliveries', {})
export const useKeys = () => useQuery({ queryKey: key('keys'), queryFn: get<Page<ApiKey>>('/api/v1/keys') })
export const useUsers = () => useQuery({ queryKey: key('users'), queryFn: get<Page<DashboardUser>>('/api/v1/users') })

/** A change, then the named lists asked again. */
function useChange<I, O>(run: (input: I) => Promise<O>, ...stale: string[]) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: run,
    onSuccess: () => Promise.all(stale.map((s) => client.invalidateQueries({ queryKey: key(s) }))),
  })
}

export const useSaveSettings = () =>
  useChange((patch: Record<string, unknown>) => api<Settings>('/api/v1/settings', { method: 'PUT', body: patch }), 'settings')
export const usePurchaseOrderAction = () =>
  useChange(
    ({ id, action, lines }: { id: string; action: 'send' | 'receive'; lines?: Array<{ sku: string; quantity: number }> }) =>
      api<PurchaseOrder>(`/api/v1/purchase-orders/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: action === 'receive' ? { lines } : undefined }),
    'purchase-orders',
    'inventory',
  )
export const useSetReorderPoint = () =>
  useChange(
    ({ sku, reorder_point }: { sku: string; reorder_point: number | string | null }) =>
      api<unknown>(`/api/v1/inventory/${encodeURIComponent(sku)}/reorder-point`, { method: 'PUT', body: { reorder_point } }),
    'forecast',
    'inventory',
  )
export const useReplayDelivery = () =>
  useChange((id: string) => api<unknown>(`/api/v1/deliveries/${encodeURIComponent(id)}/replay`, { method: 'POST' }), 'deliveries')
export const useCreateKey = () =>
  useChange((scope: string) => api<{ id: string; key: string; scope: string; store: string }>('/api/v1/keys', { method: 'POST', body: { scope } }), 'keys')
export const useRevokeKey = () => useChange((id: string) => api<void>(`/api/v1/keys/${encodeURIComponent(id)}`, { method: 'DELETE' }), 'keys')
export const useCreateUser = () =>
  useChange((input: { email: string; password: string }) => api<DashboardUser>('/api/v1/users', { method: 'POST', body: input }), 'users')
export const useDeleteUser = () => useChange((id: string) => api<void>(`/api/v1/users/${encodeURIComponent(id)}`, { method: 'DELETE' }), 'users')
export const useSmtpTest = () =>
  useMutation({
    mutationFn: (to: string) => api<{ sent: true; to: string; from: string; response: string }>('/api/v1/settings/smtp/test', { method: 'POST', body: { to } }),
  })
