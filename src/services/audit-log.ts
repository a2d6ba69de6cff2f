import { userInfo } from 'node:os'
import { UserError } from '../lib/errors.ts'
import { inTransaction, insertAuditEntry, listAuditEntries, type AuditEntry, type AuditInput } from '../store/audit-log.repo.ts'
import type { Page, PageRequest } from '../store/keyset.ts'
import type { Database } from '../store/tables.ts'
import type { Transaction } from 'kysely'
import type { ServiceContext } from './context.ts'

export type { AuditEntry } from '../store/audit-log.repo.ts'

/** What the audit log records; `?action=` of GET /api/v1/audit-log takes one of these. */
export const AUDIT_ACTIONS = [
  'workflow.saved',
  'workflow.activated',
  'workflow.deactivated',
  'workflow.deleted',
  'key.created',
  'key.revoked',
  'connector.added',
  'connector.updated',
  'connector.removed',
  'settings.changed',
  'integration.changed',
  'integration.removed',
] as const

export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** Who the command line acts as: `cli:<os user>`. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return `cli:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`
  }
}

/** The actor a change is written with: the one given (an API key, a session), else the process's (the CLI's), else `system`. */
export function actorOf(ctx: ServiceContext, given?: string): string {
  return given ?? ctx.actor ?? 'system'
}

/**
 * Runs a change and writes its audit entry in the same transaction: both or neither. `entry`
 * returns null when the change changed nothing (a workflow saved unchanged).
 */
export function audited<T>(
  ctx: ServiceContext,
  storeId: string,
  actor: string | undefined,
  change: (trx: Transaction<Database>) => Promise<T>,
  entry: (result: T) => (Omit<AuditInput, 'actor'> & { action: AuditAction }) | null,
): Promise<T> {
  return inTransaction(ctx.handle.db, async (trx) => {
    const result = await change(trx)
    const e = entry(result)
    if (e) await insertAuditEntry(trx, storeId, { ...e, actor: actorOf(ctx, actor) }, ctx.clock.now())
    return result
  })
}

/** The store's audit log: who changed which workflow, key, connector, settings or integration, and when. */
export function createAuditLogService(ctx: ServiceContext) {
  return {
    list(storeId: string, filter: PageRequest & { action?: string | undefined; target?: string | undefined }): Promise<Page<AuditEntry>> {
      if (filter.action && !(AUDIT_ACTIONS as readonly string[]).includes(filter.action))
        throw new UserError(`action: must be one of ${AUDIT_ACTIONS.join(', ')}`, { code: 'validation_failed', details: { field: 'action' } })
      return listAuditEntries(ctx.handle.db, storeId, {
        limit: filter.limit,
        cursor: filter.cursor,
        ...(filter.action ? { action: filter.action } : {}),
        ...(filter.target ? { target: filter.target } : {}),
      })
    },
  }
}

export type AuditLogService = ReturnType<typeof createAuditLogService>
