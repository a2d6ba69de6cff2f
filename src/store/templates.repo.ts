import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Kysely, Transaction } from 'kysely'
import { parse as parseYaml } from 'yaml'
import { compileTemplate } from '../core/templates/index.ts'
import { UserError } from '../lib/errors.ts'
import type { MessageTemplate } from '../plugin-api/services.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** Built-in message templates ship as `templates/messages/<name>.yaml` (subject, preheader, html). */
const BUILT_IN_DIR = fileURLToPath(new URL('../../templates/messages/', import.meta.url))

const NAME = /^[a-z0-9][a-z0-9_-]{0,99}$/

/** The store's own template by that name, else the built-in one, else null. */
export async function loadMessageTemplate(db: Db, storeId: string, name: string): Promise<MessageTemplate | null> {
  const row = await db.selectFrom('templates').selectAll().where('store_id', '=', storeId).where('name', '=', name).executeTakeFirst()
  if (row) return { name: row.name, subject: row.subject, html: row.html, preheader: row.preheader }
  return builtInTemplate(name)
}

export function builtInTemplate(name: string): MessageTemplate | null {
  if (!NAME.test(name)) return null
  const path = `${BUILT_IN_DIR}${name}.yaml`
  if (!existsSync(path)) return null
  const file = parseYaml(readFileSync(path, 'utf8')) as Partial<MessageTemplate>
  if (typeof file.subject !== 'string' || typeof file.html !== 'string') return null
  return { name, subject: file.subject, html: file.html, preheader: file.preheader ?? null }
}

/** Saves a store's template; a Liquid error is refused now, naming the field and line. */
export async function saveMessageTemplate(db: Db, storeId: string, name: string, input: unknown, now: Date): Promise<MessageTemplate> {
  if (!NAME.test(name))
    throw new UserError(`name: "${name}" must be lower-case letters, digits, - and _`, { code: 'validation_failed', details: { field: 'name' } })
  const body = (input ?? {}) as Record<string, unknown>
  for (const field of ['subject', 'html'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '')
      throw new UserError(`${field}: required, a Liquid template`, { code: 'validation_failed', details: { field } })
  }
  if (body.preheader !== undefined && body.preheader !== null && typeof body.preheader !== 'string')
    throw new UserError('preheader: must be a string', { code: 'validation_failed', details: { field: 'preheader' } })
  for (const field of ['subject', 'html', 'preheader'] as const) {
    const source = body[field]
    if (typeof source !== 'string') continue
    try {
      compileTemplate(source, `${name}.${field}`)
    } catch (err) {
      throw new UserError(`${field}: ${(err as Error).message}`, { code: 'validation_failed', details: { field, ...((err as UserError).details as object) } })
    }
  }
  const template = { name, subject: body.subject as string, html: body.html as string, preheader: (body.preheader as string | undefined) ?? null }
  const values = { subject: template.subject, html: template.html, preheader: template.preheader, updated_at: now.toISOString() }
  await db
    .insertInto('templates')
    .values({ store_id: storeId, name, ...values })
    .onConflict((oc) => oc.columns(['store_id', 'name']).doUpdateSet(values))
    .execute()
  return template
}

export async function listMessageTemplates(db: Db, storeId: string): Promise<Array<MessageTemplate & { updated_at: string }>> {
  const rows = await db.selectFrom('templates').selectAll().where('store_id', '=', storeId).orderBy('name').execute()
  return rows.map((r) => ({ name: r.name, subject: r.subject, html: r.html, preheader: r.preheader, updated_at: r.updated_at }))
}
