import { createKey, findKey, listKeys, revokeKey, type KeyScope } from '../store/stores.repo.ts'
import { audited } from './audit-log.ts'
import type { ServiceContext } from './context.ts'

export { KEY_SCOPES, type KeyScope } from '../store/stores.repo.ts'

export interface ApiKeyView {
  id: string
  store: string
  scope: string
  prefix: string
  created_at: string
  revoked_at: string | null
}

/** API keys, each bound to one store; only their hashes are stored. */
export function createKeysService(ctx: ServiceContext) {
  const db = ctx.handle.db
  return {
    /** The key itself is in the answer once, and nowhere after. */
    create(storeId: string, scope: KeyScope, actor?: string): Promise<{ id: string; key: string; scope: KeyScope; store: string }> {
      return audited(
        ctx,
        storeId,
        actor,
        (trx) => createKey(trx, storeId, scope, ctx.clock.now()),
        (k) => ({ action: 'key.created', target_id: k.id, details: { scope: k.scope } }),
      )
    },

    list(storeId: string): Promise<ApiKeyView[]> {
      return listKeys(db, storeId)
    },

    /** A key of another store is not found, as everywhere else. */
    revoke(storeId: string, id: string, actor?: string): Promise<void> {
      return audited(
        ctx,
        storeId,
        actor,
        (trx) => revokeKey(trx, storeId, id, ctx.clock.now()),
        () => ({ action: 'key.revoked', target_id: id }),
      )
    },

    /** The live (not revoked) key a request presents, or null. */
    find(token: string): Promise<{ id: string; store: string; scope: KeyScope } | null> {
      return findKey(db, token)
    },
  }
}

export type KeysService = ReturnType<typeof createKeysService>
