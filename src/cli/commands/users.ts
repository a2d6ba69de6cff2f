import type { Command } from 'commander'
import { UserError } from '../../lib/errors.ts'
import { action, printJson, withApp } from '../shared.ts'

/** Reads a line from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY)
    throw new UserError('no password: set STOREFLOW_ADMIN_PASSWORD or run the command in a terminal to be asked for one', { code: 'validation_failed' })
  process.stderr.write(question)
  stdin.setRawMode(true)
  stdin.resume()
  stdin.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    let value = ''
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done()
          resolve(value)
          return
        }
        if (ch === '\u0003') {
          done()
          reject(new UserError('cancelled'))
          return
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    const done = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    stdin.on('data', onData)
  })
}

export async function passwordFromEnvOrPrompt(): Promise<string> {
  const fromEnv = process.env.STOREFLOW_ADMIN_PASSWORD
  if (fromEnv) return fromEnv
  const { MIN_PASSWORD_LENGTH } = await import('../../services/users.ts')
  const first = await promptHidden(`password (at least ${MIN_PASSWORD_LENGTH} characters): `)
  const second = await promptHidden('password again: ')
  if (first !== second) throw new UserError('the two passwords differ', { code: 'validation_failed' })
  return first
}

export function registerUsers(program: Command): void {
  const users = program.command('users').description('dashboard users')
  users
    .command('create <email>')
    .description('create a dashboard user; the password comes from STOREFLOW_ADMIN_PASSWORD or a prompt')
    .option('--json', 'print { id, email, role, created_at } as JSON')
    .action(
      action(async (email: string, opts: { json?: boolean }) => {
        const password = await passwordFromEnvOrPrompt()
        const user = await withApp((app) => app.services.users.create({ email, password }))
        if (opts.json) printJson(user)
        else console.log(`created user ${user.email}; sign in to the dashboard with this email and the password you chose`)
      }),
    )
  users
    .command('list')
    .description('dashboard users (they sign in to every store of the installation)')
    .option('--json', 'print [{ id, email, role, created_at }] as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const list = await withApp((app) => app.services.users.list())
        if (opts.json) printJson(list)
        else if (list.length === 0) console.log('no users; create one with `storeflow users create EMAIL`')
        else for (const u of list) console.log(`${u.email}  ${u.role}  created ${u.created_at}`)
      }),
    )
  users
    .command('delete <email>')
    .description('delete a dashboard user; their sessions end at once')
    .action(
      action(async (email: string) => {
        const deleted = await withApp((app) => app.services.users.delete(email))
        if (!deleted) throw new UserError(`no user "${email}"`, { code: 'not_found' })
        console.log(`deleted user ${email.trim().toLowerCase()}; their dashboard sessions are signed out`)
      }),
    )
}
