import { actionsDoc } from './actions.ts'
import { cliDoc } from './cli.ts'
import { eventTypesDoc } from './event-types.ts'
import { httpApiDoc } from './http-api.ts'
import { templatesDoc } from './templates.ts'

/**
 * Every generated file under docs/, by its path relative to docs/, rendered in memory from the
 * declarations (zod schemas, the action registry, the commander program, the OpenAPI document,
 * the template library). Nothing here depends on the machine, the clock or the environment, so
 * the committed files can be compared with a fresh rendering (test/docs.test.ts).
 */
export async function generateDocs(): Promise<Record<string, string>> {
  return {
    'actions.md': actionsDoc(),
    'cli.md': cliDoc(),
    'event-types.md': eventTypesDoc(),
    'http-api.md': await httpApiDoc(),
    'templates.md': templatesDoc(),
  }
}
