import { parseWorkflow } from '../../src/core/workflow/parse.ts'
import { saveWorkflow } from '../../src/store/workflows.repo.ts'
import type { App } from '../../src/main.ts'

/** Saves (and by default activates) a workflow from YAML, as `storeflow workflows import` would. */
export async function installWorkflow(app: App, yaml: string, options: { store?: string; active?: boolean } = {}) {
  const parsed = parseWorkflow(yaml, (t) => app.actions.get(t))
  if (options.active !== false) parsed.file.active = true
  return saveWorkflow(app.handle.db, options.store ?? 'default', parsed, yaml, app.clock.now())
}

export function event(type: string, id: string, data: Record<string, unknown>, occurredAt?: string) {
  return { id, type, store: 'default', occurred_at: occurredAt ?? '2026-03-02T10:00:00.000Z', data }
}
