import { z } from 'zod'
import { defineAction, PermanentError } from '../../plugin-api/index.ts'
import { callRemote, type RemoteAnswer } from '../shared/remote-api.ts'

/**
 * Meta Marketing API, Custom Audiences (https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users):
 * `POST /{audience_id}/users` adds and `DELETE /{audience_id}/users` removes, each with
 * `payload={"schema":["EMAIL"],"data":[["<sha256>"],…]}` and `access_token`, at most 10,000 rows a
 * request. Emails are normalised as Meta documents (trimmed, lower-cased) and SHA-256 hashed as
 * hex before they leave storeflow (store/remote-services.ts hashEmail). Errors are `{ error: {
 * message, type, code, error_subcode } }`: code 190 is a bad token; 4, 17, 32, 613 and 80003
 * are rate limits (retried), as is HTTP 429.
 */
const META_BATCH = 10_000
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80003])
const BAD_TOKEN_CODES = new Set([102, 190])

const metaError = (body: unknown): { code?: number; message?: string } | null => {
  const e = (body as { error?: { code?: number; message?: string } } | null)?.error
  return e && typeof e === 'object' ? e : null
}

export const syncAudience = defineAction({
  type: 'sync_audience',
  title: 'Sync audience',
  description:
    "Pushes a segment's members to a Meta Custom Audience for retargeting: adds the current members with an email not yet sent, removes those sent before who have left the segment, in batches of at most 10,000 (POST and DELETE /{audience_id}/users). Emails are trimmed, lower-cased and SHA-256 hashed (hex) as Meta requires; nothing else leaves storeflow. Only members who accept marketing are sent unless consent_only is false, and one who withdraws consent is removed. Each customer is sent once per change (the store keeps what it sent to each audience), so running it on every segment.entered/segment.exited or on a schedule sends only the difference. An email two customers share is sent once and stays while either is a member; a member whose email changed has the old one removed (unless another member has it). Uses the store's meta_ads integration (access_token). Fails for good on a refused token (HTTP 401/403 or Meta error 190); retries on 429, Meta's rate-limit codes (4, 17, 32, 613, 80003) after Retry-After, and on 5xx. Output: how many were added and removed.",
  input: z.object({
    segment: z.string().min(1).max(64).describe('The segment id whose members are pushed (built in, e.g. vip, or the store’s own)'),
    audience_id: z
      .string()
      .regex(/^\d{1,32}$/, 'the numeric id of the Custom Audience')
      .describe("The Meta Custom Audience's id"),
    consent_only: z
      .boolean()
      .default(true)
      .describe(
        'true (default): only members who accept marketing are sent, and one who withdraws consent is removed at the next sync (ads are marketing); false: every member with an email',
      ),
  }),
  output: z.object({ added: z.number(), removed: z.number(), batches: z.number() }),
  effects: 'external',
  retry: { safe: true, maxAttempts: 8 },
  examples: [{ segment: 'vip', audience_id: '23851234567890123', consent_only: true }],
  async run({ input, services, clock, dryRun }) {
    if (!(await services.remote.segmentExists(input.segment))) throw new PermanentError(`segment "${input.segment}" not found`, { code: 'not_found' })
    if (dryRun) return { added: 0, removed: 0, batches: 0 }
    const account = await services.remote.account('meta_ads')
    if (!account?.credentials.access_token) {
      throw new PermanentError('the store has no meta_ads integration; set one with PUT /api/v1/integrations/meta_ads', { code: 'not_found' })
    }
    const base = account.apiUrl.replace(/\/+$/, '')
    const what = `Meta Marketing API (${new URL(base).host})`
    const send = async (method: 'POST' | 'DELETE', hashes: string[]) => {
      const answer = await callRemote(
        services.http,
        what,
        {
          method,
          url: `${base}/${input.audience_id}/users`,
          headers: {},
          form: [
            ['payload', JSON.stringify({ schema: ['EMAIL'], data: hashes.map((h) => [h]) })],
            ['access_token', account.credentials.access_token!],
          ],
        },
        {
          now: clock.now(),
          fix: "check the meta_ads integration's access_token (ads_management permission)",
          rateLimited: (a: RemoteAnswer) => RATE_LIMIT_CODES.has(metaError(a.body)?.code ?? -1),
          refusedCredentials: (a: RemoteAnswer) => BAD_TOKEN_CODES.has(metaError(a.body)?.code ?? -1),
          errorText: (body) => {
            const e = metaError(body)
            return e ? `${e.message ?? 'error'} (code ${e.code})` : null
          },
        },
      )
      return answer
    }
    let added = 0
    let removed = 0
    let batches = 0
    const unique = (hashes: string[]) => [...new Set(hashes)]
    // each batch is recorded as sent once Meta took it: a retry after a later batch failed sends only
    // what is left. Removals go first: an old email is retracted while its customer's row still
    // names it, so a failure before the new one is added retracts it again on the retry
    for (;;) {
      const { add, remove, retract } = await services.remote.audienceChanges(input.segment, input.audience_id, META_BATCH, { consentOnly: input.consent_only })
      if (add.length === 0 && remove.length === 0) break
      const leaving = unique([...remove.filter((c) => !c.stays).map((c) => c.emailHash), ...retract])
      // retracted emails ride along with the removals: in requests of at most META_BATCH rows
      for (let i = 0; i < leaving.length; i += META_BATCH) {
        await send('DELETE', leaving.slice(i, i + META_BATCH))
        batches++
      }
      if (remove.length > 0) {
        await services.remote.markAudience(input.audience_id, 'removed', remove)
        removed += remove.length
      }
      if (add.length > 0) {
        // each email once, though two customers share it (adding one Meta has is harmless: an
        // email another customer's sync may have just retracted is sent again, not assumed held)
        await send('POST', unique(add.map((c) => c.emailHash)))
        batches++
        await services.remote.markAudience(input.audience_id, 'added', add)
        added += add.length
      }
    }
    return { added, removed, batches }
  },
})
