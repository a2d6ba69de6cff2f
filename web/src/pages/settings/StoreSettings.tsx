import { type FormEvent, useEffect, useState } from 'react'
import { ApiError } from '../../api/client.ts'
import { type Settings, useSaveSettings, useSettings, useSmtpTest } from '../../api/store-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'

type Kind = 'text' | 'duration' | 'nullable' | 'number' | 'boolean' | 'color' | 'textarea'

interface FieldSpec {
  /** the settings key; `brand.x` for a brand key, `quiet_hours.start` for one end of quiet hours */
  name: string
  label: string
  kind: Kind
  hint?: string
}

const GUARDRAILS: FieldSpec[] = [
  { name: 'store_name', label: 'Store name', kind: 'text', hint: 'The sender name and the header of mail' },
  {
    name: 'frequency_cap',
    label: 'Frequency cap',
    kind: 'nullable',
    hint: 'At most one marketing message per customer per this long, like "16h"; empty: no cap',
  },
  { name: 'quiet_hours.start', label: 'Quiet hours start', kind: 'nullable', hint: 'HH:MM; empty start and end: no quiet hours' },
  { name: 'quiet_hours.end', label: 'Quiet hours end', kind: 'nullable', hint: 'HH:MM' },
  { name: 'cart_abandoned_after', label: 'Cart abandoned after', kind: 'duration', hint: 'like "1h"' },
  { name: 'inactive_after', label: 'Customer inactive after', kind: 'duration', hint: 'like "90d"' },
  { name: 'renewal_notice', label: 'Renewal notice', kind: 'duration', hint: 'like "7d"' },
  { name: 'attribution_window', label: 'Attribution window', kind: 'duration', hint: 'How long after a click an order counts, like "5d"' },
  { name: 'attribution_opens', label: 'Count opens toward attribution', kind: 'boolean' },
  { name: 'mail_from', label: 'Mail from', kind: 'nullable', hint: 'shop@example.com or "Name <shop@example.com>"; empty: STOREFLOW_MAIL_FROM' },
  { name: 'mail_reply_to', label: 'Reply-to', kind: 'nullable' },
  { name: 'shop_url', label: 'Shop URL', kind: 'nullable', hint: 'https://…' },
]

const BRAND: FieldSpec[] = [
  { name: 'brand.logo_url', label: 'Logo URL', kind: 'nullable', hint: 'An https:// PNG or JPEG; empty: the store name in text' },
  { name: 'brand.logo_width', label: 'Logo width (px)', kind: 'number' },
  { name: 'brand.logo_height', label: 'Logo height (px)', kind: 'number' },
  { name: 'brand.primary_color', label: 'Primary colour', kind: 'nullable', hint: '#rrggbb; empty: the plain look' },
  { name: 'brand.background_color', label: 'Background colour', kind: 'color', hint: '#rrggbb' },
  { name: 'brand.footer_text', label: 'Footer text', kind: 'textarea', hint: "Such as the store's postal address" },
]

type Draft = Record<string, string | boolean>

function read(settings: Settings, name: string): unknown {
  return name.split('.').reduce<unknown>((v, part) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined), settings)
}

function draftOf(settings: Settings, fields: FieldSpec[]): Draft {
  return Object.fromEntries(
    fields.map((f) => {
      const v = read(settings, f.name)
      return [f.name, f.kind === 'boolean' ? v === true : v === null || v === undefined ? '' : String(v)]
    }),
  )
}

/** The PUT body for the fields whose draft differs from what is saved. */
function patchOf(settings: Settings, fields: FieldSpec[], draft: Draft): Record<string, unknown> {
  const saved = draftOf(settings, fields)
  const patch: Record<string, unknown> = {}
  const brand: Record<string, unknown> = {}
  let quietChanged = false
  for (const f of fields) {
    if (draft[f.name] === saved[f.name]) continue
    const raw = draft[f.name]!
    if (f.name.startsWith('quiet_hours.')) {
      quietChanged = true
      continue
    }
    let value: unknown = raw
    if (f.kind === 'boolean') value = raw === true
    else if (f.kind === 'number') value = raw === '' ? raw : Number(raw)
    else if ((f.kind === 'nullable' || f.kind === 'textarea') && raw === '') value = null
    if (f.name.startsWith('brand.')) brand[f.name.slice(6)] = value
    else patch[f.name] = value
  }
  if (quietChanged) {
    const start = draft['quiet_hours.start'] as string
    const end = draft['quiet_hours.end'] as string
    patch.quiet_hours = start === '' && end === '' ? null : { start, end }
  }
  if (Object.keys(brand).length > 0) patch.brand = brand
  return patch
}

/** Guardrails, attribution, the sender and the brand of the store's mail; and an SMTP test mail. */
export function StoreSettingsPage() {
  const settings = useSettings()
  return (
    <section aria-labelledby="settings-heading">
      <h1 id="settings-heading">Store settings</h1>
      <ErrorNote error={settings.error} />
      {settings.isPending ? <p>Loading…</p> : null}
      {settings.data ? (
        <>
          <SettingsForm id="guardrails" title="Guardrails, attribution and sender" settings={settings.data} fields={GUARDRAILS} />
          <SettingsForm id="brand" title="Brand of the store's mail" settings={settings.data} fields={BRAND} />
        </>
      ) : null}
      <SmtpTest />
    </section>
  )
}

function SettingsForm({ id, title, settings, fields }: { id: string; title: string; settings: Settings; fields: FieldSpec[] }) {
  const save = useSaveSettings()
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings, fields))
  const [saved, setSaved] = useState(false)
  useEffect(() => setDraft(draftOf(settings, fields)), [settings, fields])
  const error = save.error instanceof ApiError ? save.error : null
  // the field the server named; quiet_hours as a whole goes with its start
  const badField = error?.field === 'quiet_hours' ? 'quiet_hours.start' : (error?.field ?? null)
  const shownAtField = badField !== null && fields.some((f) => f.name === badField)
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setSaved(false)
    const patch = patchOf(settings, fields, draft)
    if (Object.keys(patch).length === 0) return setSaved(true)
    save.mutate(patch, { onSuccess: () => setSaved(true) })
  }
  return (
    <form aria-labelledby={`${id}-heading`} onSubmit={submit} className="settings-form" noValidate>
      <h2 id={`${id}-heading`}>{title}</h2>
      {fields.map((f) => {
        const inputId = `setting-${f.name.replace('.', '-')}`
        const invalid = badField === f.name
        const describedBy = [f.hint ? `${inputId}-hint` : '', invalid ? `${inputId}-error` : ''].filter(Boolean).join(' ') || undefined
        const value = draft[f.name]
        const set = (v: string | boolean) => {
          setSaved(false)
          setDraft((d) => ({ ...d, [f.name]: v }))
        }
        return (
          <div key={f.name} className={f.kind === 'boolean' ? 'field field-check' : 'field'}>
            {f.kind === 'boolean' ? (
              <input id={inputId} type="checkbox" checked={value === true} onChange={(e) => set(e.target.checked)} aria-describedby={describedBy} />
            ) : null}
            <label htmlFor={inputId}>{f.label}</label>
            {f.kind === 'textarea' ? (
              <textarea
                id={inputId}
                value={String(value)}
                onChange={(e) => set(e.target.value)}
                aria-invalid={invalid || undefined}
                aria-describedby={describedBy}
                rows={3}
              />
            ) : f.kind !== 'boolean' ? (
              <input
                id={inputId}
                name={f.name}
                type={f.kind === 'number' ? 'number' : 'text'}
                value={String(value)}
                onChange={(e) => set(e.target.value)}
                aria-invalid={invalid || undefined}
                aria-describedby={describedBy}
              />
            ) : null}
            {f.hint ? (
              <small id={`${inputId}-hint`} className="muted">
                {f.hint}
              </small>
            ) : null}
            {invalid && error ? (
              <p id={`${inputId}-error`} className="error field-error" role="alert">
                {error.message}
              </p>
            ) : null}
          </div>
        )
      })}
      {save.error && !shownAtField ? <ErrorNote error={save.error} /> : null}
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          Save {title.toLowerCase()}
        </button>
        {saved && !save.isPending ? (
          <span role="status" className="saved">
            Saved
          </span>
        ) : null}
      </div>
    </form>
  )
}

function SmtpTest() {
  const test = useSmtpTest()
  const [to, setTo] = useState('')
  return (
    <form
      aria-labelledby="smtp-heading"
      className="settings-form"
      onSubmit={(e) => {
        e.preventDefault()
        test.mutate(to)
      }}
    >
      <h2 id="smtp-heading">SMTP</h2>
      <p className="muted">Sends one plain mail through the installation's SMTP_URL, from this store's sender.</p>
      <div className="field">
        <label htmlFor="smtp-to">Send a test mail to</label>
        <input id="smtp-to" type="email" value={to} onChange={(e) => setTo(e.target.value)} autoComplete="email" />
      </div>
      <ErrorNote error={test.error} />
      {test.data ? (
        <p role="status">
          Sent to {test.data.to} from {test.data.from}; the server said: {test.data.response}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" disabled={test.isPending || to === ''}>
          Send test mail
        </button>
      </div>
    </form>
  )
}
