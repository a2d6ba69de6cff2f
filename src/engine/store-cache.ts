import type { StorageTx, StoreRecord } from './ports.ts'

/** How long a process trusts its copy of a store's settings, ms. */
const TTL_MS = 5_000

/**
 * Store records (name, currency, time zone, settings) read on every scope build. Settings can
 * change from another process (PUT /settings on an API node while a worker runs), so copies
 * expire after a few seconds rather than living for the process.
 */
export class StoreCache {
  private readonly entries = new Map<string, { record: StoreRecord; at: number }>()

  async get(tx: StorageTx, storeId: string): Promise<StoreRecord | null> {
    const hit = this.peek(storeId)
    if (hit) return hit
    const record = await tx.getStore(storeId)
    if (record) this.entries.set(storeId, { record, at: Date.now() })
    return record
  }

  /** the cached copy if fresh, without reading the database */
  peek(storeId: string): StoreRecord | null {
    const hit = this.entries.get(storeId)
    return hit && Date.now() - hit.at < TTL_MS ? hit.record : null
  }

  invalidate(storeId: string): void {
    this.entries.delete(storeId)
  }
}
