import { Help, type Command, type Option } from 'commander'
import { buildProgram } from '../../src/cli/main.ts'
import { anchor, code, codeBlock, document, generatedBanner, table } from './markdown.ts'

/**
 * docs/cli.md from the commander program itself (built, never run): every command's usage,
 * description, arguments and options, in the order `storeflow --help` lists them.
 */
export function cliDoc(): string {
  const program = buildProgram()
  const help = new Help()
  const commands = flatten(program).filter((c) => c !== program)
  const globals = help.visibleOptions(program).filter((o) => !isHelpOrVersion(o))

  const sections = commands.map((command) => {
    const name = fullName(command)
    const args = command.registeredArguments.filter((a) => a.description)
    const options = help.visibleOptions(command).filter((o) => !isHelpOrVersion(o))
    const subcommands = command.commands.map((c) => `[${fullName(c)}](#${anchor(fullName(c))})`)
    return [
      `${command.parent === program ? '##' : '###'} ${name}`,
      sentence(command.description()),
      codeBlock(help.commandUsage(command)),
      args.length > 0
        ? table(
            ['argument', 'description'],
            args.map((a) => [code(help.argumentTerm(a)), help.argumentDescription(a)]),
          )
        : null,
      options.length > 0
        ? table(
            ['option', 'description'],
            options.map((o) => [code(help.optionTerm(o)), optionText(help, o)]),
          )
        : null,
      subcommands.length > 0 ? `Commands: ${subcommands.join(', ')}.` : null,
    ]
      .filter((part): part is string => part !== null)
      .join('\n\n')
  })

  return document([
    generatedBanner(['the commander program in src/cli/main.ts and src/cli/commands/']),
    '# The `storeflow` command',
    `${sentence(program.description())} Run \`npx storeflow\` in a checkout (or \`storeflow\` when installed); \`storeflow --help\` and \`storeflow COMMAND --help\` print the same as below.`,
    'Every command exits 0 on success and non-zero with a one-line reason (`error: …`) on failure; commands whose output is data take `--json`. Configuration comes from flags, then the environment (`STOREFLOW_*`, `DATABASE_URL`, `SMTP_URL`), then a `storeflow.config.json` (or `.mjs`, `.js`) file in the working directory.',
    globals.length > 0
      ? `Options every command takes:\n\n${table(
          ['option', 'description'],
          globals.map((o) => [code(help.optionTerm(o)), optionText(help, o)]),
        )}`
      : null,
    table(
      ['command', 'does'],
      commands.filter((c) => c.commands.length === 0).map((c) => [`[${fullName(c)}](#${anchor(fullName(c))})`, c.description()]),
    ),
    ...sections,
  ])
}

function flatten(command: Command): Command[] {
  return [command, ...command.commands.flatMap(flatten)]
}

function fullName(command: Command): string {
  const names: string[] = []
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

function isHelpOrVersion(option: Option): boolean {
  return option.long === '--help' || option.long === '--version'
}

function optionText(help: Help, option: Option): string {
  const text = help.optionDescription(option)
  return option.mandatory ? `${text} (required)` : text
}

/** A command's description as a sentence: capitalised, ending with a full stop. */
function sentence(text: string): string {
  if (!text) return ''
  const capital = text.charAt(0).toUpperCase() + text.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}
