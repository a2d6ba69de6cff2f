import { parseWorkflow, type ParsedWorkflow } from '../core/workflow/parse.ts'
import { UserError } from '../lib/errors.ts'
import { pageOfList, type PageRequest } from '../store/keyset.ts'
import { deleteWorkflow, exportWorkflow, getWorkflow, listWorkflows, saveWorkflow, setWorkflowActive } from '../store/workflows.repo.ts'
import { audited } from './audit-log.ts'
import type { ServiceContext } from './context.ts'
import { findTemplate, loadTemplates, notInstallable } from './template-library.ts'

/** Workflows as files: checked against this installation's actions, saved as versions, read back. */
export function createWorkflowService(ctx: ServiceContext) {
  const db = ctx.handle.db
  const parse = (source: string, fileName?: string): ParsedWorkflow => parseWorkflow(source, (t) => ctx.actions.get(t), fileName)
  const save = (storeId: string, parsed: ParsedWorkflow, source: string, actor?: string) =>
    audited(
      ctx,
      storeId,
      actor,
      (trx) => saveWorkflow(trx, storeId, parsed, source, ctx.clock.now()),
      ({ summary, created }) =>
        created ? { action: 'workflow.saved', target_id: summary.id, details: { name: summary.name, version: summary.version, active: summary.active } } : null,
    )

  return {
    /** Checks a workflow file (YAML or JSON) and compiles it; a mistake is a UserError naming the line. */
    parse,
    /** Saves a new version when the definition changed; `created` says whether it did. */
    save,
    /** Parses and saves a file, as `workflows import` does; `active`, when given, overrides the file's. */
    async import(storeId: string, source: string, fileName: string, options: { active?: boolean; actor?: string } = {}) {
      const parsed = parse(source, fileName)
      if (options.active !== undefined) parsed.file.active = options.active
      return save(storeId, parsed, source, options.actor)
    },
    /** One page of the template library as this installation's actions see it (the same for every store). */
    templates: (page: PageRequest) => pageOfList(loadTemplates(ctx.actions), (t) => t.name, page),
    /** Installs a built-in template as it is in the library (inactive unless the store activated it before). */
    async installTemplate(storeId: string, name: string, actor?: string) {
      const t = findTemplate(loadTemplates(ctx.actions), name)
      const reason = notInstallable(t)
      if (reason || !t.parsed) throw new UserError(reason ?? `template "${name}" cannot be installed`, { code: 'validation_failed' })
      return save(storeId, t.parsed, t.source, actor)
    },
    /** Every workflow of the store, by id. */
    list: (storeId: string) => listWorkflows(db, storeId),
    /** One page of list(). */
    async page(storeId: string, page: PageRequest) {
      return pageOfList(await listWorkflows(db, storeId), (w) => w.id, page)
    },
    /** A workflow with its source, definition and versions; the current version unless one is named. */
    get: (storeId: string, id: string, version?: number) => getWorkflow(db, storeId, id, version),
    /** The workflow as a file again. */
    async export(storeId: string, id: string, format: 'yaml' | 'json', version?: number) {
      return exportWorkflow(await getWorkflow(db, storeId, id, version), format)
    },
    setActive: (storeId: string, id: string, active: boolean, actor?: string) =>
      audited(
        ctx,
        storeId,
        actor,
        (trx) => setWorkflowActive(trx, storeId, id, active, ctx.clock.now()),
        (w) => ({ action: active ? 'workflow.activated' : 'workflow.deactivated', target_id: id, details: { version: w.version } }),
      ),
    delete: (storeId: string, id: string, actor?: string) =>
      audited(
        ctx,
        storeId,
        actor,
        (trx) => deleteWorkflow(trx, storeId, id),
        () => ({ action: 'workflow.deleted', target_id: id }),
      ),
  }
}

export type WorkflowService = ReturnType<typeof createWorkflowService>
