import { inTransaction } from './audit-log.repo.ts'
import type { Kysely } from 'kysely'
import { stringify as toYaml } from 'yaml'
import type { ParsedWorkflow } from '../core/workflow/parse.ts'
import { UserError } from '../lib/errors.ts'
import { triggerEventType } from '../contracts/workflow.ts'
import type { Database } from './tables.ts'

export interface WorkflowSummary {
  id: string
  name: string
  version: number
  active: boolean
  trigger: Record<string, unknown>
  created_at: string
  updated_at: string
}

function triggerType(parsed: ParsedWorkflow): string {
  return triggerEventType(parsed.file.trigger)
}

/**
 * Saves a new version of a workflow (versions are immutable; runs pin theirs). A save with
 * an identical definition does not create a version. `active` in the file, when given, sets it.
 */
/** The longest id a new workflow may have (segments have the same). */
export const WORKFLOW_ID_MAX = 64

export async function saveWorkflow(
  db: Kysely<Database>,
  storeId: string,
  parsed: ParsedWorkflow,
  source: string,
  now: Date,
): Promise<{ summary: WorkflowSummary; created: boolean }> {
  // the caller's transaction when given one (the audit entry goes in with the save)
  return inTransaction(db, async (trx) => {
    const at = now.toISOString()
    const { file } = parsed
    const existing = await trx.selectFrom('workflows').selectAll().where('store_id', '=', storeId).where('id', '=', file.id).executeTakeFirst()
    // a new workflow's id is short; one saved before that limit keeps its id (and its versions and runs)
    if (!existing && file.id.length > WORKFLOW_ID_MAX)
      throw new UserError(`id: at most ${WORKFLOW_ID_MAX} characters`, { code: 'validation_failed', details: { field: 'id' } })
    const definition = JSON.stringify(file)
    let version = existing?.version ?? 0
    let created = false
    if (existing) {
      const current = await trx
        .selectFrom('workflow_versions')
        .select('definition')
        .where('store_id', '=', storeId)
        .where('workflow_id', '=', file.id)
        .where('version', '=', existing.version)
        .executeTakeFirst()
      if (current?.definition !== definition) {
        version += 1
        created = true
      }
    } else {
      version = 1
      created = true
    }
    if (created) {
      await trx
        .insertInto('workflow_versions')
        .values({ store_id: storeId, workflow_id: file.id, version, source, format: parsed.format, definition, created_at: at })
        .execute()
    }
    const active = file.active ?? (existing ? existing.active === 1 : false)
    if (existing) {
      await trx
        .updateTable('workflows')
        .set({ name: file.name, version, active: active ? 1 : 0, trigger_type: triggerType(parsed), updated_at: at })
        .where('store_id', '=', storeId)
        .where('id', '=', file.id)
        .execute()
    } else {
      await trx
        .insertInto('workflows')
        .values({
          store_id: storeId,
          id: file.id,
          name: file.name,
          version,
          active: active ? 1 : 0,
          trigger_type: triggerType(parsed),
          created_at: at,
          updated_at: at,
        })
        .execute()
    }
    return {
      summary: { id: file.id, name: file.name, version, active, trigger: file.trigger, created_at: existing?.created_at ?? at, updated_at: at },
      created,
    }
  })
}

export async function listWorkflows(db: Kysely<Database>, storeId: string): Promise<WorkflowSummary[]> {
  const rows = await db
    .selectFrom('workflows')
    .innerJoin('workflow_versions', (j) =>
      j
        .onRef('workflow_versions.store_id', '=', 'workflows.store_id')
        .onRef('workflow_versions.workflow_id', '=', 'workflows.id')
        .onRef('workflow_versions.version', '=', 'workflows.version'),
    )
    .select([
      'workflows.id',
      'workflows.name',
      'workflows.version',
      'workflows.active',
      'workflows.created_at',
      'workflows.updated_at',
      'workflow_versions.definition',
    ])
    .where('workflows.store_id', '=', storeId)
    .orderBy('workflows.id')
    .execute()
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    version: r.version,
    active: r.active === 1,
    trigger: (JSON.parse(r.definition) as { trigger: Record<string, unknown> }).trigger,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }))
}

export async function getWorkflow(
  db: Kysely<Database>,
  storeId: string,
  id: string,
  version?: number,
): Promise<WorkflowSummary & { source: string; format: string; definition: unknown; versions: number[] }> {
  const head = await db.selectFrom('workflows').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (!head) throw new UserError(`workflow "${id}" not found`, { code: 'not_found' })
  const wanted = version ?? head.version
  const v = await db
    .selectFrom('workflow_versions')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('workflow_id', '=', id)
    .where('version', '=', wanted)
    .executeTakeFirst()
  if (!v) throw new UserError(`workflow "${id}" has no version ${wanted}`, { code: 'not_found' })
  const versions = (
    await db.selectFrom('workflow_versions').select('version').where('store_id', '=', storeId).where('workflow_id', '=', id).orderBy('version').execute()
  ).map((r) => r.version)
  const definition = JSON.parse(v.definition) as { trigger: Record<string, unknown> }
  return {
    id,
    name: head.name,
    version: wanted,
    active: head.active === 1,
    trigger: definition.trigger,
    created_at: head.created_at,
    updated_at: head.updated_at,
    source: v.source,
    format: v.format,
    definition,
    versions,
  }
}

export async function setWorkflowActive(db: Kysely<Database>, storeId: string, id: string, active: boolean, now: Date): Promise<WorkflowSummary> {
  const result = await db
    .updateTable('workflows')
    .set({ active: active ? 1 : 0, updated_at: now.toISOString() })
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst()
  if (Number(result.numUpdatedRows) === 0) throw new UserError(`workflow "${id}" not found`, { code: 'not_found' })
  const { source: _s, format: _f, definition: _d, versions: _v, ...summary } = await getWorkflow(db, storeId, id)
  return summary
}

export async function deleteWorkflow(db: Kysely<Database>, storeId: string, id: string): Promise<void> {
  // versions stay: runs that pinned them keep their history readable
  const result = await db.deleteFrom('workflows').where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst()
  if (Number(result.numDeletedRows) === 0) throw new UserError(`workflow "${id}" not found`, { code: 'not_found' })
}

/** The workflow as a file again: its source when it was YAML and YAML is asked for, else generated. */
export function exportWorkflow(wf: { source: string; format: string; definition: unknown }, format: 'yaml' | 'json'): string {
  if (format === wf.format && format === 'yaml') return wf.source
  return format === 'json' ? `${JSON.stringify(wf.definition, null, 2)}\n` : toYaml(wf.definition)
}
