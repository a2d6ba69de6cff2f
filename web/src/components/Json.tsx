/** A value from the API (a step's input or output), pretty-printed as text: never as markup. */
export function Json({ value, label }: { value: unknown; label: string }) {
  if (value === undefined) return null
  return (
    <details className="json">
      <summary>{label}</summary>
      <pre>{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>
    </details>
  )
}
