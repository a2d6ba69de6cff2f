import { useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { currentStore, setCurrentStore } from '../api/client.ts'
import type { StoreInfo } from '../api/types.ts'

/** Chooses the store every request acts on (X-Storeflow-Store); the other store's data is dropped. */
export function StoreSwitcher({ stores }: { stores: StoreInfo[] }) {
  const client = useQueryClient()
  const id = useId()
  const [store, setStore] = useState(currentStore)
  const known = stores.some((s) => s.id === store) ? stores : [{ id: store, name: store, currency: '', timezone: '' }, ...stores]
  return (
    <span className="store-switcher">
      <label htmlFor={id}>Store</label>
      <select
        id={id}
        value={store}
        onChange={(e) => {
          setCurrentStore(e.target.value)
          setStore(e.target.value)
          // every page re-renders with keys naming the new store (api/hooks.ts) and asks again
          void client.resetQueries({ queryKey: ['store'] })
        }}
      >
        {known.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
            {s.currency ? ` (${s.currency})` : ''}
          </option>
        ))}
      </select>
    </span>
  )
}
