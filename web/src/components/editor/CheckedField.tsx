import { type ReactNode, useEffect, useId, useState } from 'react'
import { checkExpression } from '../../api/editor-hooks.ts'

/** How long typing pauses before a field is checked by the server. */
export const CHECK_DELAY_MS = 350

/** The server's verdict on a CEL expression or Liquid template, asked once typing pauses. */
export function useExpressionCheck(kind: 'cel' | 'liquid', source: string): string | null {
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    if (source.trim() === '') {
      setError(null)
      return
    }
    const abort = new AbortController()
    const timer = setTimeout(() => {
      checkExpression(kind, source, abort.signal)
        .then((answer) => setError(answer.ok ? null : (answer.error ?? 'invalid')))
        .catch(() => {
          // aborted, or the server is away: the save reports the problem anyway
        })
    }, CHECK_DELAY_MS)
    return () => {
      clearTimeout(timer)
      abort.abort()
    }
  }, [kind, source])
  return error
}

interface FieldProps {
  /** the whole file's check naming this field (src/core/workflow/parse.ts) */
  problem?: string | null
  label: string
  value: string
  onChange: (value: string) => void
  hint?: string
  multiline?: boolean
}

/** A text field whose CEL or Liquid is checked as it is typed; the error is tied to the field (aria-describedby). */
export function CheckedField({ label, value, onChange, hint, multiline, kind, problem }: FieldProps & { kind: 'cel' | 'liquid' }) {
  const id = useId()
  const error = useExpressionCheck(kind, value) ?? problem ?? null
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined
  const common = {
    id,
    value,
    className: 'mono',
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    spellCheck: false,
  }
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {label} <span className="muted">({kind === 'cel' ? 'CEL' : 'Liquid'})</span>
      </label>
      {multiline ? (
        <textarea {...common} rows={4} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input {...common} onChange={(e) => onChange(e.target.value)} />
      )}
      {hint ? (
        <small id={`${id}-hint`} className="muted">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} className="field-error" role="status">
          {error}
        </small>
      ) : null}
    </div>
  )
}

/** A plain labelled field (text, number, checkbox or choice). */
export function PlainField({
  label,
  value,
  onChange,
  hint,
  type = 'text',
  options,
  problem,
}: {
  problem?: string | null
  label: string
  value: unknown
  onChange: (value: unknown) => void
  hint?: string
  type?: 'text' | 'number' | 'boolean' | 'select'
  options?: unknown[]
}) {
  const id = useId()
  const describedBy = [hint ? `${id}-hint` : null, problem ? `${id}-error` : null].filter(Boolean).join(' ') || undefined
  let input: ReactNode
  if (type === 'boolean')
    input = <input id={id} type="checkbox" checked={value === true} aria-describedby={describedBy} onChange={(e) => onChange(e.target.checked)} />
  else if (type === 'select')
    input = (
      <select
        id={id}
        value={value === undefined ? '' : String(value)}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
      >
        <option value="">—</option>
        {(options ?? []).map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    )
  else
    input = (
      <input
        id={id}
        type={type === 'number' ? 'number' : 'text'}
        aria-invalid={problem ? true : undefined}
        value={value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value)}
        aria-describedby={describedBy}
        onChange={(e) => {
          const v = e.target.value
          onChange(type === 'number' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : v)
        }}
      />
    )
  return (
    <div className={`field${type === 'boolean' ? ' field-check' : ''}${problem ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {input}
      {hint ? (
        <small id={`${id}-hint`} className="muted">
          {hint}
        </small>
      ) : null}
      {problem ? (
        <small id={`${id}-error`} className="field-error">
          {problem}
        </small>
      ) : null}
    </div>
  )
}
