import { createHash } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { AudienceChange, RemoteServices, StepLabel, StepPost } from '../plugin-api/remote-services.ts'
import { integrationFor } from './integrations.repo.ts'
import { listSegments } from './segments.repo.ts'
import type { Database } from './tables.ts'

type Db = Kysely<Database> | Transaction<Database>

/** Meta's documented normalisation of an email before hashing: trimmed, lower-cased; then SHA-256 as hex. */
export function hashEmail(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('hex')
}

/**
 * Erasure: the customer's rows of every audience go (the hash is personal data). The platform
 * keeps what it was sent until the audience is cleaned there: docs/integrations.md says so.
 */
export async function forgetAudienceMember(db: Db, storeId: string, customerKey: string): Promise<void> {
  await db.deleteFrom('audience_members').where('store_id', '=', storeId).where('customer_key', '=', customerKey).execute()
}

/** ActionServices.remote for one store (plugin-api/remote-services.ts). */
export function createRemoteServices(db: Db, storeId: string, secretKey: string, now: () => Date): RemoteServices {
  return {
    account: (kind) => integrationFor(db, secretKey, storeId, kind),
    async stepLabel(runId, stepKey) {
      const row = await db
        .selectFrom('shipping_labels')
        .selectAll()
        .where('store_id', '=', storeId)
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .executeTakeFirst()
      if (!row) return null
      return {
        status: row.status,
        orderId: row.order_id,
        rateId: row.rate_id,
        carrier: row.carrier,
        service: row.service,
        amount: row.amount,
        currency: row.currency,
        estimatedDays: row.estimated_days,
        transactionId: row.transaction_id,
        trackingNumber: row.tracking_number,
        labelUrl: row.label_url,
      }
    },
    async saveStepLabel(runId, stepKey, label: StepLabel) {
      const values = {
        order_id: label.orderId,
        status: label.status,
        rate_id: label.rateId,
        carrier: label.carrier,
        service: label.service,
        amount: label.amount,
        currency: label.currency,
        estimated_days: label.estimatedDays,
        transaction_id: label.transactionId,
        tracking_number: label.trackingNumber,
        label_url: label.labelUrl,
      }
      await db
        .insertInto('shipping_labels')
        .values({ store_id: storeId, run_id: runId, step_key: stepKey, created_at: now().toISOString(), ...values })
        .onConflict((oc) => oc.columns(['run_id', 'step_key']).doUpdateSet(values))
        .execute()
    },
    async audienceChanges(segmentId, audienceId, limit, options = {}) {
      const consentOnly = options.consentOnly === true
      const members = await db
        .selectFrom('segment_members as m')
        .innerJoin('customers as c', (j) => j.onRef('c.key', '=', 'm.customer_key').onRef('c.store_id', '=', 'm.store_id'))
        .leftJoin('audience_members as a', (j) =>
          j.onRef('a.customer_key', '=', 'm.customer_key').onRef('a.store_id', '=', 'm.store_id').on('a.audience_id', '=', audienceId),
        )
        .select(['m.customer_key', 'c.email', 'a.state', 'a.email_hash'])
        .where('m.store_id', '=', storeId)
        .where('m.segment_id', '=', segmentId)
        .where('m.exited_at', 'is', null)
        .where('c.email', 'is not', null)
        .$if(consentOnly, (q) => q.where('c.accepts_marketing', '=', 1))
        .orderBy('m.customer_key')
        .execute()
      // two customers may share an email: a hash stays in the audience while any current member has it
      const current = members.map((m) => ({ ...m, hash: hashEmail(m.email!) }))
      const kept = new Set(current.map((m) => m.hash))
      const add: AudienceChange[] = []
      const retract = new Set<string>()
      for (const m of current) {
        if (m.state === 'added' && m.email_hash === m.hash) continue
        add.push({ customerKey: m.customer_key, emailHash: m.hash })
        // sent before with another email: that one leaves the audience, unless someone still has it
        if (m.state === 'added' && m.email_hash && !kept.has(m.email_hash)) retract.add(m.email_hash)
        if (add.length >= limit) break
      }
      const gone = await db
        .selectFrom('audience_members as a')
        .select(['a.customer_key', 'a.email_hash'])
        .where('a.store_id', '=', storeId)
        .where('a.audience_id', '=', audienceId)
        .where('a.state', '=', 'added')
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('segment_members as m')
                .innerJoin('customers as c', (j) => j.onRef('c.key', '=', 'm.customer_key').onRef('c.store_id', '=', 'm.store_id'))
                .select('m.customer_key')
                .whereRef('m.store_id', '=', 'a.store_id')
                .whereRef('m.customer_key', '=', 'a.customer_key')
                .where('m.segment_id', '=', segmentId)
                .where('m.exited_at', 'is', null)
                // a member whose email was cleared leaves the audience too
                .where('c.email', 'is not', null)
                .$if(consentOnly, (q) => q.where('c.accepts_marketing', '=', 1)),
            ),
          ),
        )
        .orderBy('a.customer_key')
        .limit(limit)
        .execute()
      return {
        add,
        remove: gone.map((g) => ({ customerKey: g.customer_key, emailHash: g.email_hash, ...(kept.has(g.email_hash) ? { stays: true } : {}) })),
        retract: [...retract],
      }
    },
    async markAudience(audienceId, state, changes) {
      const at = now().toISOString()
      for (const c of changes) {
        await db
          .insertInto('audience_members')
          .values({ store_id: storeId, audience_id: audienceId, customer_key: c.customerKey, email_hash: c.emailHash, state, synced_at: at })
          .onConflict((oc) => oc.columns(['store_id', 'audience_id', 'customer_key']).doUpdateSet({ email_hash: c.emailHash, state, synced_at: at }))
          .execute()
      }
    },
    async stepPost(runId, stepKey) {
      const row = await db
        .selectFrom('social_posts')
        .selectAll()
        .where('store_id', '=', storeId)
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .executeTakeFirst()
      return row ? { status: row.status, text: row.text, updates: JSON.parse(row.updates) as StepPost['updates'] } : null
    },
    async saveStepPost(runId, stepKey, post) {
      const values = { status: post.status, text: post.text, updates: JSON.stringify(post.updates) }
      await db
        .insertInto('social_posts')
        .values({ store_id: storeId, run_id: runId, step_key: stepKey, created_at: now().toISOString(), ...values })
        .onConflict((oc) => oc.columns(['run_id', 'step_key']).doUpdateSet(values))
        .execute()
    },
    async segmentExists(segmentId) {
      return (await listSegments(db, storeId)).some((s) => s.id === segmentId)
    },
  }
}
