import { Link } from '../../router.tsx'

export const STORE_SECTIONS = [
  { to: '/customers', label: 'Customers' },
  { to: '/orders', label: 'Orders and carts' },
  { to: '/inventory', label: 'Inventory' },
  { to: '/purchase-orders', label: 'Purchase orders' },
  { to: '/suppliers', label: 'Suppliers' },
  { to: '/discount-codes', label: 'Discount codes' },
]

export const SETTINGS_SECTIONS = [
  { to: '/settings', label: 'Store settings' },
  { to: '/settings/connectors', label: 'Connectors' },
  { to: '/settings/keys', label: 'API keys' },
  { to: '/settings/users', label: 'Users' },
]

/** The links between the pages of one part of the dashboard (the store, the settings). */
export function SubNav({ label, sections, path }: { label: string; sections: Array<{ to: string; label: string }>; path: string }) {
  return (
    <nav aria-label={label} className="subnav">
      <ul>
        {sections.map((s) => (
          <li key={s.to}>
            <Link to={s.to} aria-current={path === s.to || (s.to !== '/settings' && path.startsWith(`${s.to}/`)) ? 'page' : undefined}>
              {s.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  )
}

/** A number of money in the store's currency, as the browser's locale writes it. */
export function Money({ value, currency }: { value: number | null | undefined; currency?: string | null }) {
  if (value === null || value === undefined) return <span className="muted">—</span>
  try {
    return <span>{new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'USD' }).format(value)}</span>
  } catch {
    return (
      <span>
        {value} {currency}
      </span>
    )
  }
}

/** A customer's name as text: first and last, else the email, else the key. */
export function customerName(c: { first_name: string | null; last_name: string | null; email: string | null; key: string }): string {
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ')
  return name || c.email || c.key
}
