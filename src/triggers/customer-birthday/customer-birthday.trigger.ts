import { localParts, wallClockToInstant, zoneFor } from '../../core/time-zones.ts'
import { defineTrigger } from '../../plugin-api/define-trigger.ts'
import { CATCH_UP_MS, SWEEP_LIMIT } from '../sweep.ts'

/** The hour of the birthday's morning the event falls at, in the customer's time zone. */
const BIRTHDAY_HOUR = 9
const DAY_MS = 86_400_000
/** Candidates read at a time (customers with a birthday in the window). */
const CANDIDATE_PAGE = 1000

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

/**
 * The instant a birthday falls in `year`: 09:00 on the day in `zone`. Born on 29 February: the
 * 28th in a year without one (the day still in the birthday's month).
 */
export function birthdayInstant(birthday: string, year: number, zone: string): Date {
  const month = Number(birthday.slice(5, 7))
  let day = Number(birthday.slice(8, 10))
  if (month === 2 && day === 29 && !isLeap(year)) day = 28
  return wallClockToInstant({ year, month, day, hour: BIRTHDAY_HOUR, minute: 0 }, zone)
}

/**
 * customer.birthday: at 09:00 on the customer's birthday in their time zone (else the store's),
 * once a year (the id names the year). Whether to act on it (consent, a voucher) is the
 * workflow's to say.
 */
export const customerBirthday = defineTrigger({
  kind: 'derived',
  type: 'customer.birthday',
  title: 'Customer birthday',
  description: "09:00 on the customer's birthday in their time zone (else the store's); once a year; born on 29 February: the 28th in other years.",
  reactsTo: { schedule: { cron: '*/15 * * * *', timezone: 'UTC' } },
  async derive({ cause, store, view, now }) {
    if (cause.kind !== 'schedule') return []
    const from = now.getTime() - CATCH_UP_MS
    const monthDays = monthDaysBetween(from - DAY_MS, now.getTime() + DAY_MS)
    const out: Array<{ id: string; occurred_at: string; data: Record<string, unknown> }> = []
    // page through every candidate: those who had this year's already must not hide the others
    let after: string | undefined
    while (out.length < SWEEP_LIMIT) {
      const page = await view.birthdays(monthDays, CANDIDATE_PAGE, after)
      if (page.length === 0) break
      after = page[page.length - 1]!.key
      const due: Array<{ id: string; at: Date; customer: Record<string, unknown> }> = []
      for (const { key, birthday, customer } of page) {
        const zone = zoneFor(customer, store)
        const year = localParts(now, zone).year
        // the last birthday at or before now: this year's, or last year's around New Year
        for (const y of [year, year - 1]) {
          const at = birthdayInstant(birthday, y, zone)
          if (at.getTime() > now.getTime()) continue
          if (at.getTime() > from) due.push({ id: `customer.birthday:${key}:${y}`, at, customer })
          break
        }
      }
      const already = await view.existingEventIds(due.map((d) => d.id))
      for (const d of due) if (!already.has(d.id)) out.push({ id: d.id, occurred_at: d.at.toISOString(), data: { customer: d.customer } })
      if (page.length < CANDIDATE_PAGE) break
    }
    return out.slice(0, SWEEP_LIMIT)
  },
})

/** Every MM-DD of the UTC days from `fromMs` to `toMs`, with 02-29 wherever 02-28 is in a year without it. */
function monthDaysBetween(fromMs: number, toMs: number): string[] {
  const out = new Set<string>()
  for (let ms = fromMs; ms <= toMs + DAY_MS; ms += DAY_MS) {
    const d = new Date(ms)
    const md = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`
    out.add(md)
    if (md === '02-28' && !isLeap(d.getUTCFullYear())) out.add('02-29')
  }
  return [...out].sort()
}
