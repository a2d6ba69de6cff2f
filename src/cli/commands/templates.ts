import type { Command } from 'commander'
import { action, globals, printJson, printTable, withApp } from '../shared.ts'
import { describeTrigger } from './workflows.ts'

export function registerTemplates(program: Command): void {
  const templates = program.command('templates').description('the built-in template library')

  templates
    .command('list')
    .description('list the built-in templates')
    .option('--json', 'print [{ name, title, description, trigger }] as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        // the library is files: listing it needs no database
        const { builtInTemplates } = await import('../../services/template-library.ts')
        const list = builtInTemplates()
        if (opts.json) {
          printJson(list.map((t) => ({ name: t.name, title: t.title, description: t.description, trigger: t.trigger })))
          return
        }
        printTable(
          ['NAME', 'TITLE', 'TRIGGER', 'STATUS'],
          list.map((t) => [
            t.name,
            t.title,
            describeTrigger(t.trigger),
            t.missingActions.length > 0 ? `needs action ${t.missingActions.join(', ')}` : t.problem ? 'does not parse' : 'ready',
          ]),
        )
      }),
    )

  templates
    .command('install <name>')
    .description('install a template as an inactive workflow (activate it with `storeflow workflows activate NAME`)')
    .option('--json', 'print the saved workflow as JSON')
    .action(
      action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
        const { store } = globals(cmd)
        const result = await withApp((app) => app.services.workflows.installTemplate(store, name))
        const w = result.summary
        if (opts.json) printJson({ id: w.id, name: w.name, version: w.version, active: w.active, trigger: w.trigger, created: result.created })
        else
          console.log(
            `${result.created ? 'installed' : 'unchanged'} ${w.id} v${w.version} (${w.active ? 'active' : 'inactive'}); activate it with: storeflow workflows activate ${w.id}`,
          )
      }),
    )
}
