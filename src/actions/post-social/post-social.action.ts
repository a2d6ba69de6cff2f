import { z } from 'zod'
import { defineAction, PermanentError, type StepPost } from '../../plugin-api/index.ts'
import { callRemote } from '../shared/remote-api.ts'

/**
 * Buffer's publish API, v1 REST (https://buffer.com/developers/api/updates), as existing apps use it:
 * - `POST /1/updates/create.json`, form-encoded: `access_token`, `text`, `profile_ids[]` (repeated),
 *   `media[link]`, `media[photo]` and `media[thumbnail]` (an image post), `shorten`; answers
 *   `{ success: true, updates: [{ id, profile_id, text, status }] }`, or `{ success: false, code,
 *   message }` with a 4xx;
 * - `GET /1/profiles/{id}/updates/pending.json` and `…/sent.json` list a profile's queued and
 *   sent updates (`{ updates: [{ id, text }] }`);
 * - 401 for a bad token; 429 when over the rate limit (60 requests a minute per token).
 * Buffer takes no idempotency key: the step records its text before posting, and a retry after an
 * unclear failure posts only to the profiles that do not have an update with that text yet.
 */
const KINDS = ['new', 'back_in_stock', 'on_sale'] as const

const input = z.object({
  announce: z.enum(KINDS).describe('What is announced: new, back_in_stock or on_sale; chooses the default text'),
  text: z.string().min(1).max(2000).optional().describe("The post's text (Liquid); default from the product: e.g. 'Back in stock: <title>'"),
  link: z.string().url().optional().describe("Link attached to the post; default: the product's url field, when it has one"),
  image: z.string().url().optional().describe("Image attached to the post; default: the product's image (image.src or images[0].src)"),
  profile_ids: z
    .array(z.string().min(1))
    .min(1)
    .max(20)
    .optional()
    .describe("Buffer profiles to post to; default: the buffer integration's config.profile_ids"),
  now: z.boolean().default(false).describe('Post at once instead of adding to the Buffer queue; default false'),
})

interface BufferUpdate {
  id?: string
  profile_id?: string
  text?: string
}

const bufferError = (body: unknown): string | null => {
  if (!body || typeof body !== 'object') return null
  const b = body as Record<string, unknown>
  const message = b.message ?? b.error
  return typeof message === 'string' ? `${message}${b.code !== undefined ? ` (code ${String(b.code)})` : ''}` : null
}

export const postSocial = defineAction({
  type: 'post_social',
  title: 'Post to social media',
  description:
    "Announces a product (new, back in stock, on sale) on the store's social profiles through Buffer (POST /1/updates/create.json), with the product's image and link: the text defaults to the announcement and the product's title (and price for on_sale); the post is queued in Buffer (or posted at once with now: true). Uses the store's buffer integration (access_token; config.profile_ids unless the step names profiles). Posted once per step: a retry after an unclear failure first looks for the text among each profile's pending and sent updates. Fails for good on a refused token (401); retries on 429 (after Retry-After), 5xx and network failures. Output: the Buffer update ids.",
  input,
  output: z.object({ update_ids: z.array(z.string()), profiles: z.number() }),
  effects: 'external',
  retry: { safe: true, maxAttempts: 6 },
  examples: [{ announce: 'back_in_stock', now: false }],
  async run({ input, scope, services, run, clock, dryRun }) {
    const product = (scope.product ?? null) as Record<string, unknown> | null
    const text = input.text ?? defaultText(input.announce, product)
    if (!text) throw new PermanentError('text: required when the trigger is about no product', { reason: 'no_text' })
    if (dryRun) return { update_ids: [], profiles: 0 }
    const account = await services.remote.account('buffer')
    if (!account?.credentials.access_token)
      throw new PermanentError('the store has no buffer integration; set one with PUT /api/v1/integrations/buffer', { code: 'not_found' })
    const configured = account.config.profile_ids
    const profiles = input.profile_ids ?? (Array.isArray(configured) ? configured.map(String) : [])
    if (profiles.length === 0) throw new PermanentError('profile_ids: give them in the step, or config.profile_ids in the buffer integration')
    const base = account.apiUrl.replace(/\/+$/, '')
    const what = `Buffer (${new URL(base).host})`
    const token = account.credentials.access_token
    const opts = { now: clock.now(), fix: "check the buffer integration's access_token", errorText: bufferError }

    const earlier = await services.remote.stepPost(run.id, run.stepKey)
    if (earlier?.status === 'posted') return outputOf(earlier)
    const done: StepPost['updates'] = []
    let remaining = profiles
    if (earlier) {
      // an earlier attempt may have posted before failing: find its text in each profile's updates
      for (const profile of profiles) {
        for (const list of ['pending', 'sent']) {
          const answer = await callRemote(
            services.http,
            what,
            {
              method: 'GET',
              url: `${base}/1/profiles/${encodeURIComponent(profile)}/updates/${list}.json?count=100&access_token=${encodeURIComponent(token)}`,
              headers: {},
            },
            opts,
          )
          const found = ((answer.body as { updates?: BufferUpdate[] })?.updates ?? []).find((u) => u.text === earlier.text && u.id)
          if (found) {
            done.push({ profile_id: profile, update_id: found.id! })
            break
          }
        }
      }
      remaining = profiles.filter((p) => !done.some((d) => d.profile_id === p))
    }
    const postText = earlier?.text ?? text
    await services.remote.saveStepPost(run.id, run.stepKey, { status: 'pending', text: postText, updates: done })
    if (remaining.length > 0) {
      const link = input.link ?? (typeof product?.url === 'string' ? product.url : undefined)
      const image = input.image ?? imageOf(product)
      const form: Array<[string, string]> = [
        ['access_token', token],
        ['text', postText],
        ['shorten', 'false'],
        ...remaining.map((p): [string, string] => ['profile_ids[]', p]),
        ...(link ? [['media[link]', link] as [string, string]] : []),
        ...(image ? [['media[photo]', image] as [string, string], ['media[thumbnail]', image] as [string, string]] : []),
        ...(input.now ? [['now', 'true'] as [string, string]] : []),
      ]
      const answer = await callRemote(services.http, what, { method: 'POST', url: `${base}/1/updates/create.json`, headers: {}, form }, opts)
      const body = answer.body as { success?: boolean; updates?: BufferUpdate[]; message?: string }
      if (body?.success === false) throw new PermanentError(`${what} did not post: ${body.message ?? 'no reason given'}`)
      for (const u of body?.updates ?? []) if (u.id) done.push({ profile_id: String(u.profile_id ?? ''), update_id: u.id })
    }
    const posted: StepPost = { status: 'posted', text: postText, updates: done }
    await services.remote.saveStepPost(run.id, run.stepKey, posted)
    return outputOf(posted)
  },
})

function outputOf(post: StepPost) {
  return { update_ids: post.updates.map((u) => u.update_id), profiles: post.updates.length }
}

function defaultText(kind: (typeof KINDS)[number], product: Record<string, unknown> | null): string | null {
  const title = typeof product?.title === 'string' ? product.title : null
  if (!title) return null
  if (kind === 'new') return `New: ${title}`
  if (kind === 'back_in_stock') return `Back in stock: ${title}`
  const variants = Array.isArray(product?.variants) ? (product.variants as Array<{ price?: unknown }>) : []
  const price = variants[0]?.price
  return price != null ? `On sale: ${title}, now ${String(price)}` : `On sale: ${title}`
}

function imageOf(product: Record<string, unknown> | null): string | undefined {
  const image = product?.image as { src?: unknown } | undefined
  if (typeof image?.src === 'string') return image.src
  const images = product?.images as Array<{ src?: unknown }> | undefined
  return Array.isArray(images) && typeof images[0]?.src === 'string' ? images[0].src : undefined
}
