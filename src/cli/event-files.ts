import { UserError } from '../lib/errors.ts'

/** One event as read from a file, with the line it starts on (for error messages). */
export interface RawEvent {
  value: unknown
  line: number | null
  /** 1-based position in a JSON array or `events` list (several events may share a line) */
  index?: number
}

export interface FileProblem {
  line: number | null
  message: string
}

/**
 * Reads canonical events from a file's text: one JSON event, a JSON array, `{ "events": [...] }`,
 * or NDJSON (one event per line). Lines that are not JSON are reported, not thrown.
 */
export function readEvents(text: string): { events: RawEvent[]; problems: FileProblem[] } {
  const trimmed = text.trim()
  if (trimmed === '') return { events: [], problems: [] }
  let whole: unknown
  let isJson = false
  try {
    whole = JSON.parse(trimmed)
    isJson = true
  } catch {
    isJson = false
  }
  if (isJson) {
    if (Array.isArray(whole)) {
      const lines = elementLines(text, 'array')
      return { events: whole.map((value, i) => ({ value, line: lines[i] ?? null, index: i + 1 })), problems: [] }
    }
    if (whole && typeof whole === 'object' && Array.isArray((whole as { events?: unknown }).events)) {
      const list = (whole as { events: unknown[] }).events
      const lines = elementLines(text, 'events')
      return { events: list.map((value, i) => ({ value, line: lines[i] ?? null, index: i + 1 })), problems: [] }
    }
    return { events: [{ value: whole, line: firstContentLine(text) }], problems: [] }
  }
  // NDJSON
  const events: RawEvent[] = []
  const problems: FileProblem[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '') return
    try {
      events.push({ value: JSON.parse(line), line: i + 1 })
    } catch (err) {
      problems.push({ line: i + 1, message: `not JSON: ${(err as Error).message}` })
    }
  })
  if (events.length === 0 && problems.length > 1) {
    throw new UserError('the file is neither JSON nor NDJSON (one JSON event per line)', { code: 'validation_failed' })
  }
  return { events, problems }
}

function firstContentLine(text: string): number {
  const idx = text.search(/\S/)
  return idx < 0 ? 1 : text.slice(0, idx).split('\n').length
}

/**
 * The line on which each element of the events array starts: a scan that knows strings and
 * nesting, so line numbers are right for pretty-printed and one-line files alike.
 */
function elementLines(text: string, where: 'array' | 'events'): number[] {
  const out: number[] = []
  let line = 1
  let depth = 0
  let inString = false
  let escaped = false
  let targetDepth = where === 'array' ? 1 : -1
  let expectValue = false
  let lastKey = ''
  let keyStart = -1
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '\n') line++
    if (inString) {
      if (escaped) escaped = false
      else if (ch === '\\') escaped = true
      else if (ch === '"') {
        inString = false
        if (depth === 1 && keyStart >= 0) lastKey = text.slice(keyStart, i)
        keyStart = -1
      }
      continue
    }
    if (/\s/.test(ch)) continue
    if (depth === targetDepth && expectValue && ch !== ']') {
      out.push(line)
      expectValue = false
    }
    if (ch === '"') {
      inString = true
      if (depth === 1 && where === 'events' && targetDepth < 0) keyStart = i + 1
      continue
    }
    if (ch === '[' || ch === '{') {
      depth++
      if (ch === '[' && where === 'events' && targetDepth < 0 && depth === 2 && lastKey === 'events') targetDepth = 2
      if (depth === targetDepth && ch === '[') expectValue = true
    } else if (ch === ']' || ch === '}') {
      depth--
      if (depth < targetDepth - 1) expectValue = false
    } else if (ch === ',' && depth === targetDepth) {
      expectValue = true
    }
  }
  return out
}
