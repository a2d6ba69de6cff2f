import { UserError } from './errors.ts'

const UNIT_MS = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/

/** Parses durations written like `90s`, `4h`, `30d`, `1h30m`, into milliseconds. */
export function parseDuration(text: string, field = 'duration'): number {
  const trimmed = text.trim()
  const parts = trimmed.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d|w)/g)
  if (!parts || parts.join('') !== trimmed) {
    throw new UserError(`${field}: "${text}" is not a duration; write it like "90s", "4h", "3d" or "1h30m"`, {
      code: 'validation_failed',
      details: { field },
    })
  }
  let total = 0
  for (const part of parts) {
    const m = DURATION.exec(part)
    if (!m) throw new UserError(`${field}: "${text}" is not a duration`, { code: 'validation_failed' })
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  }
  return Math.round(total)
}

export function isDuration(text: string): boolean {
  try {
    parseDuration(text)
    return true
  } catch {
    return false
  }
}

/** Formats milliseconds as the shortest exact duration string (`90000` → `90s`). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
