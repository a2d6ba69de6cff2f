import './store.css'
import type { ReactNode } from 'react'
import { match } from '../../router.tsx'
import { ConnectorsPage } from '../settings/Connectors.tsx'
import { KeysPage } from '../settings/Keys.tsx'
import { StoreSettingsPage } from '../settings/StoreSettings.tsx'
import { UsersPage } from '../settings/Users.tsx'
import { CustomerDetailPage, CustomersPage } from './Customers.tsx'
import { DiscountCodesPage } from './DiscountCodes.tsx'
import { ForecastPage, InventoryPage } from './Inventory.tsx'
import { OrdersPage } from './Orders.tsx'
import { PurchaseOrdersPage, SuppliersPage } from './Purchasing.tsx'
import { SETTINGS_SECTIONS, STORE_SECTIONS, SubNav } from './SubNav.tsx'

function storePage(path: string): ReactNode | null {
  if (path === '/customers') return <CustomersPage />
  const customer = match('/customers/:id', path)
  if (customer) return <CustomerDetailPage id={customer.id!} />
  if (path === '/orders') return <OrdersPage />
  if (path === '/inventory') return <InventoryPage />
  const sku = match('/inventory/:sku', path)
  if (sku) return <ForecastPage sku={sku.sku!} />
  if (path === '/purchase-orders') return <PurchaseOrdersPage />
  if (path === '/suppliers') return <SuppliersPage />
  if (path === '/discount-codes') return <DiscountCodesPage />
  return null
}

function settingsPage(path: string): ReactNode | null {
  if (path === '/settings') return <StoreSettingsPage />
  if (path === '/settings/connectors') return <ConnectorsPage />
  if (path === '/settings/keys') return <KeysPage />
  if (path === '/settings/users') return <UsersPage />
  return null
}

/** The store's and the settings' pages with their section links, or null for a path of neither. */
export function storeOrSettingsPage(path: string): ReactNode | null {
  const store = storePage(path)
  if (store)
    return (
      <>
        <SubNav label="Store" sections={STORE_SECTIONS} path={path} />
        {store}
      </>
    )
  const settings = settingsPage(path)
  if (settings)
    return (
      <>
        <SubNav label="Settings" sections={SETTINGS_SECTIONS} path={path} />
        {settings}
      </>
    )
  return null
}
