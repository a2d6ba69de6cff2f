// Prints the commands of the real `storeflow` program as a JSON array of paths ("workflows list",
// "demo", …), without running any: the program src/cli/main.ts builds (compiled into dist/, as
// bin/storeflow.mjs runs it) is walked at the moment it would parse its arguments. Used by
// test/e2e/two-stores-cli.test.ts so that a command added later without a two-store case fails
// that test.
import { Command } from 'commander'

Command.prototype.parseAsync = async function parseAsync() {
  const walk = (cmd, path) =>
    cmd.commands.flatMap((sub) => {
      const here = [...path, sub.name()]
      return sub.commands.length > 0 ? walk(sub, here) : [here.join(' ')]
    })
  process.stdout.write(JSON.stringify(walk(this, [])))
  process.exit(0)
}

const { runCommandLine } = await import('../../dist/command-line.js')
await runCommandLine(process.argv)
