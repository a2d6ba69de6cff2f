import type { ReactNode } from 'react'
import { useSignOut } from '../api/hooks.ts'
import type { Session } from '../api/types.ts'
import { Link } from '../router.tsx'
import { StoreSwitcher } from './StoreSwitcher.tsx'

const SECTIONS: Array<{ to: string; label: string; under?: string[] }> = [
  { to: '/workflows', label: 'Workflows' },
  { to: '/runs', label: 'Runs' },
  { to: '/messages', label: 'Outbox' },
  { to: '/events', label: 'Events' },
  { to: '/insight', label: 'Insight' },
  { to: '/customers', label: 'Store', under: ['/orders', '/inventory', '/purchase-orders', '/suppliers', '/discount-codes'] },
  { to: '/settings', label: 'Settings' },
]

export function Layout({ session, path, children }: { session: Session; path: string; children: ReactNode }) {
  const signOut = useSignOut()
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">storeflow</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.to}>
                <Link to={s.to} aria-current={[s.to, ...(s.under ?? [])].some((p) => path === p || path.startsWith(`${p}/`)) ? 'page' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <StoreSwitcher stores={session.stores} />
          <span className="muted" title={`role: ${session.user.role}`}>
            {session.user.email}
          </span>
          <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  )
}
