import { z } from 'zod'
import { customerSchema } from '../../contracts/events.ts'
import { defineAction, PermanentError, SkipStep } from '../../plugin-api/index.ts'

/** Profile fields upsert_customer sets; anything else in the source is left out. */
const PROFILE_FIELDS = ['id', 'email', 'phone', 'first_name', 'last_name', 'birthday', 'timezone', 'tags'] as const

/** The values that say "yes" to marketing: a checked HTML checkbox sends `on`. Anything else, or no value, says nothing. */
const EXPLICIT_YES = new Set(['true', 'on', 'yes', '1', 'checked'])

export const upsertCustomer = defineAction({
  type: 'upsert_customer',
  title: 'Create or update customer',
  description:
    "Creates or updates the customer's profile from form or event fields, by emitting a customer.updated event (so the store's usual rules apply: newest wins, a profile known by email joins the one with the shop's id). Marketing consent is never inferred: it is recorded (as an explicit newsletter.subscribed) only when the consent field is explicitly true (`true`, `on` as a checked checkbox sends, `yes`, `1`); otherwise consent is left as it was. Skipped when the fields hold neither an email nor an id.",
  input: z.object({
    fields: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Profile fields to set (id, email, phone, first_name, last_name, birthday as YYYY-MM-DD, timezone, tags), values usually Liquid such as "{{ event.data.fields.name }}"; default: the fields of a form.submitted event (never its id or tags: anyone may post a form), else the event\'s customer',
      ),
    consent_field: z
      .string()
      .min(1)
      .optional()
      .describe('The field, among the fields above (or the form fields by default), that carries explicit marketing consent; default accepts_marketing'),
  }),
  output: z.object({
    customer: z.object({ id: z.string().optional(), email: z.string().optional() }),
    fields: z.array(z.string()),
    accepts_marketing: z.boolean().nullable(),
  }),
  effects: 'internal',
  simulate: 'perform',
  retry: { safe: true },
  examples: [{}, { fields: { email: '{{ event.data.fields.email }}', first_name: '{{ event.data.fields.name }}' }, consent_field: 'newsletter' }],
  async run({ input, scope, customer, idempotencyKey, services }) {
    const formTrigger = isForm(scope)
    const fromForm = !input.fields && formTrigger
    const source = input.fields ?? defaultSource(scope)
    const profile: Record<string, unknown> = {}
    for (const field of PROFILE_FIELDS) {
      // anyone may post a form: by default its fields never name the shop's customer id nor tags
      if (fromForm && (field === 'id' || field === 'tags')) continue
      // nor overwrite what a customer who exists already has (the form's own event only fills gaps too)
      if (formTrigger && field !== 'email' && customer && customer[field] !== null && customer[field] !== undefined) continue
      const value = source[field]
      if (field === 'tags' && Array.isArray(value)) profile.tags = value.map(String)
      else if (typeof value === 'string' && value.trim() !== '') profile[field] = value.trim()
      else if (typeof value === 'number' && field === 'id') profile.id = String(value)
    }
    if (typeof profile.email === 'string') profile.email = profile.email.toLowerCase()
    if (!profile.id && !profile.email) throw new SkipStep('no_email')
    const parsed = customerSchema.safeParse(profile)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new PermanentError(`fields.${issue.path.join('.') || 'email'}: ${issue.message}`)
    }
    const consentValue = source[input.consent_field ?? 'accepts_marketing']
    const consent = consentValue === true || (typeof consentValue === 'string' && EXPLICIT_YES.has(consentValue.trim().toLowerCase()))
    const who = { ...(profile.id ? { id: profile.id as string } : {}), ...(profile.email ? { email: profile.email as string } : {}) }
    // a known customer's form that fills nothing says nothing new: no update (its time would make
    // the shop's own later-arriving changes look older than they are)
    const fillsSomething = !(formTrigger && customer) || Object.keys(profile).some((field) => field !== 'email')
    if (fillsSomething) await services.events.emit({ id: `upsert:${idempotencyKey}`, type: 'customer.updated', data: profile })
    // a form cannot opt back in someone who unsubscribed: only their own subscribe (a link, the shop) can
    const optedOut = formTrigger && Boolean(customer?.unsubscribed_at)
    if (consent && !optedOut)
      await services.events.emit({ id: `upsert-consent:${idempotencyKey}`, type: 'newsletter.subscribed', data: { customer: who, source: 'upsert_customer' } })
    return { customer: who, fields: fillsSomething ? Object.keys(profile) : [], accepts_marketing: consent && !optedOut ? true : null }
  },
})

function isForm(scope: Record<string, unknown>): boolean {
  return ((scope.event ?? scope.trigger) as { type?: string } | undefined)?.type === 'form.submitted'
}

/** A form.submitted trigger's fields, else the event's customer (or the event itself for customer.*). */
function defaultSource(scope: Record<string, unknown>): Record<string, unknown> {
  const event = (scope.event ?? scope.trigger) as { type?: string; data?: Record<string, unknown> } | undefined
  const data = event?.data ?? {}
  if (event?.type === 'form.submitted' && data.fields && typeof data.fields === 'object') return data.fields as Record<string, unknown>
  if (data.customer && typeof data.customer === 'object') return data.customer as Record<string, unknown>
  return event?.type?.startsWith('customer.') ? data : {}
}
