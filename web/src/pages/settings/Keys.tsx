import { useState } from 'react'
import { useCreateKey, useKeys, useRevokeKey } from '../../api/store-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { Time } from '../../components/Time.tsx'

/** The store's API keys: listed by prefix, created (the key shown once), revoked. */
export function KeysPage() {
  const keys = useKeys()
  const create = useCreateKey()
  const revoke = useRevokeKey()
  const [scope, setScope] = useState('read')
  return (
    <section aria-labelledby="keys-heading">
      <h1 id="keys-heading">API keys</h1>
      <form
        className="filters"
        aria-label="Create an API key"
        onSubmit={(e) => {
          e.preventDefault()
          create.mutate(scope)
        }}
      >
        <label htmlFor="key-scope">Scope</label>
        <select id="key-scope" value={scope} onChange={(e) => setScope(e.target.value)}>
          <option value="read">read</option>
          <option value="ingest">ingest</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ErrorNote error={create.error ?? revoke.error} />
      {create.data ? (
        <div className="panel" role="status">
          <p>The new {create.data.scope} key, shown this once (only its hash is kept). Copy it now:</p>
          <label htmlFor="new-key">New API key</label>
          <input id="new-key" readOnly value={create.data.key} onFocus={(e) => e.target.select()} className="mono" />
        </div>
      ) : null}
      <ErrorNote error={keys.error} />
      {keys.data && keys.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Prefix</th>
              <th scope="col">Scope</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="sr-only">Revoke</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.items.map((k) => (
              <tr key={k.id}>
                <td>{k.id}</td>
                <td className="mono">{k.prefix}…</td>
                <td>{k.scope}</td>
                <td>
                  <Time value={k.created_at} />
                </td>
                <td>{k.revoked_at ? 'revoked' : 'live'}</td>
                <td>
                  {k.revoked_at ? null : (
                    <button type="button" disabled={revoke.isPending} onClick={() => revoke.mutate(k.id)}>
                      Revoke <span className="sr-only">{k.id}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}
