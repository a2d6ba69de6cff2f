/**
 * The customer a form.submitted event names. A form is posted by anyone, with no key
 * (POST /forms/:store/:form), so only the profile fields a sign-up form may set are taken: never
 * `id` (which would let a stranger write to any customer of the shop by their id), `tags` (a
 * shopper tagging themselves `vip`) or anything else the projection would keep on the profile.
 * Consent counts only as a JSON boolean (the forms endpoint turns a checked box into true).
 * The whole form stays on the event for workflows (`event.data.fields`, upsert_customer).
 */
const FORM_PROFILE_FIELDS = ['email', 'phone', 'first_name', 'last_name', 'birthday', 'timezone'] as const

export function formCustomer(fields: unknown): Record<string, unknown> | null {
  if (!fields || typeof fields !== 'object') return null
  const f = fields as Record<string, unknown>
  if (typeof f.email !== 'string' || !f.email.includes('@')) return null
  const customer: Record<string, unknown> = {}
  for (const name of FORM_PROFILE_FIELDS) if (typeof f[name] === 'string' && f[name] !== '') customer[name] = f[name]
  if (typeof customer.birthday === 'string' && !/^\d{4}-\d{2}-\d{2}$/.test(customer.birthday)) delete customer.birthday
  if (typeof f.accepts_marketing === 'boolean') customer.accepts_marketing = f.accepts_marketing
  return customer
}
