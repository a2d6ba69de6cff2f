import { ScrollText } from './ScrollText.tsx'

/** A value from the API (a step's input or output), pretty-printed as text: never as markup. */
export function Json({ value, label }: { value: unknown; label: string }) {
  if (value === undefined) return null
  return (
    <details className="json">
      <summary>{label}</summary>
      <ScrollText label={label}>{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</ScrollText>
    </details>
  )
}
