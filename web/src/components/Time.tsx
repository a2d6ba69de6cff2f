/** An ISO-8601 time shown in the browser's locale, with the exact value on hover and for machines. */
export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return <span>{value}</span>
  return (
    <time dateTime={value} title={value}>
      {date.toLocaleString()}
    </time>
  )
}
