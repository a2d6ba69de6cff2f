import {
  createConnector,
  getConnector,
  listConnectors,
  removeConnector,
  updateConnector,
  type ConnectorInput,
  type ConnectorView,
} from '../store/connectors.repo.ts'
import { connectorHealth, type ConnectorHealth } from '../store/deliveries.repo.ts'
import { pageOfList, type Page, type PageRequest } from '../store/keyset.ts'
import { audited } from './audit-log.ts'
import type { ServiceContext } from './context.ts'
import type { SignatureFailureTally } from './signature-failures.ts'

export { isPlatform, PLATFORMS } from '../connectors/registry.ts'
export type { Platform } from '../connectors/types.ts'
export type { ConnectorHealth } from '../store/deliveries.repo.ts'
export type { ConnectorInput, ConnectorView } from '../store/connectors.repo.ts'

/** A store's shop connections: webhook secrets (sealed at rest) and shop API credentials. */
export function createConnectorsService(ctx: ServiceContext) {
  const db = ctx.handle.db
  const secretKey = ctx.config.secretKey
  return {
    add(storeId: string, input: ConnectorInput, actor?: string): Promise<ConnectorView> {
      return audited(
        ctx,
        storeId,
        actor,
        (trx) => createConnector(trx, secretKey, storeId, input, ctx.clock.now()),
        (c) => ({ action: 'connector.added', target_id: c.id, details: connectorDetails(c) }),
      )
    },

    list(storeId: string): Promise<ConnectorView[]> {
      return listConnectors(db, secretKey, storeId)
    },

    /** One page of list(). */
    async page(storeId: string, page: PageRequest): Promise<Page<ConnectorView>> {
      return pageOfList(await listConnectors(db, secretKey, storeId), (c) => c.id, page)
    },

    get(storeId: string, id: string): Promise<ConnectorView> {
      return getConnector(db, secretKey, storeId, id)
    },

    /** Secrets rotation is an update: { secrets: [old, new] }, later { secrets: [new] }. */
    update(storeId: string, id: string, patch: Partial<ConnectorInput>, actor?: string): Promise<ConnectorView> {
      return audited(
        ctx,
        storeId,
        actor,
        (trx) => updateConnector(trx, secretKey, storeId, id, patch, ctx.clock.now()),
        // the names of the fields changed, never their values (secrets, tokens)
        (c) => ({
          action: 'connector.updated',
          target_id: id,
          details: { ...connectorDetails(c), changed: Object.fromEntries(Object.keys(patch).map((k) => [k, true] as const)) },
        }),
      )
    },

    remove(storeId: string, id: string, actor?: string): Promise<void> {
      return audited(
        ctx,
        storeId,
        actor,
        async (trx) => {
          const gone = await getConnector(trx, secretKey, storeId, id)
          await removeConnector(trx, storeId, id)
          return gone
        },
        (c) => ({ action: 'connector.removed', target_id: id, details: connectorDetails(c) }),
      ).then(() => undefined)
    },

    /**
     * Deliveries and refused signatures of the last 24 hours. `unwritten`: this process's tally of
     * refused signatures, added to what the database holds.
     */
    async health(storeId: string, id: string, unwritten?: SignatureFailureTally): Promise<ConnectorHealth> {
      await getConnector(db, secretKey, storeId, id)
      const now = ctx.clock.now()
      const stored = await connectorHealth(db, id, now)
      // same window as connectorHealth: the current hour and the 24 before it
      return unwritten ? unwritten.addPending(stored, new Date(now.getTime() - 24 * 3600_000)) : stored
    },
  }
}

/** What the audit log says of a connector: where it points, never a secret or token. */
function connectorDetails(c: ConnectorView): Record<string, unknown> {
  return { platform: c.platform, shop_domain: c.shop_domain, api_url: c.api_url, secret_count: c.secret_count, access_token_set: c.access_token_set }
}

export type ConnectorsService = ReturnType<typeof createConnectorsService>
