import type { Kysely } from 'kysely'

/**
 * Dashboard users (`storeflow users create EMAIL`). Frozen once shipped: later changes go in
 * new numbered files. Users belong to the installation, not to one store.
 */
export async function up(db: Kysely<any>, _dialect: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** lower-cased; the sign-in name */
    .addColumn('email', 'text', (c) => c.notNull().unique())
    /** scrypt$N$r$p$salt$hash, base64url parts (see users.repo.ts) */
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('admin'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
}
