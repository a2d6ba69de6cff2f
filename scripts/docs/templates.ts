import { createActionRegistry } from '../../src/actions/index.ts'
import { describeTrigger } from '../../src/cli/commands/workflows.ts'
import { loadTemplates } from '../../src/services/template-library.ts'
import { code, document, generatedBanner, table } from './markdown.ts'

/** docs/templates.md: the built-in template library (templates/workflows/*.yaml), as `storeflow templates list` sees it. */
export function templatesDoc(): string {
  const templates = loadTemplates(createActionRegistry())
  return document([
    generatedBanner(['templates/workflows/*.yaml']),
    '# Workflow templates',
    'Ready-made workflows in `templates/workflows/`. `storeflow templates install NAME` saves one as an inactive workflow of the store; read it with `storeflow workflows export NAME`, change what you like ([workflows.md](workflows.md)), then `storeflow workflows activate NAME`. A template that needs an action this version does not have yet cannot be installed, and one whose trigger is a derived event runs only when that event is sent, since storeflow does not emit those yet ([events.md](events.md#ingest-paths)).',
    table(
      ['template', 'trigger', 'what it does', 'status'],
      templates.map((t) => [
        `${code(t.name)}<br>${t.title}`,
        code(describeTrigger(t.trigger)),
        t.description,
        t.missingActions.length > 0 ? `needs ${t.missingActions.map(code).join(', ')}` : t.problem ? 'does not parse' : 'ready',
      ]),
    ),
  ])
}
