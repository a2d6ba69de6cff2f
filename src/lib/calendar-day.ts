/**
 * Whether `value` is a real calendar day written YYYY-MM-DD, from 1970: `2026-02-30` and
 * `2026-13-01` are not. (A Date made from them is either moved to another day or invalid, and an
 * invalid Date's toISOString throws, which is why this never calls it on one.)
 */
export function isCalendarDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number(value.slice(0, 4)) < 1970) return false
  const time = Date.parse(`${value}T00:00:00Z`)
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value
}
