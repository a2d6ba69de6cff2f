/**
 * Limits on what one ingested event (or one webhook body) may hold, checked before anything of it
 * is stored, on every ingest path: the events API (one event, a batch, history), the webhooks, and
 * `storeflow events send`. docs/limits.md lists them; a test holds that page to these values.
 *
 * Why these values: real shop payloads nest 6 or 7 levels, carry a few hundred line items and a
 * product description of some kilobytes. The limits sit far above that, and far below what makes
 * a recursive step (JSON.stringify, a template, a condition) overflow its stack or a row explode.
 */
export const INGEST_LIMITS = {
  /** levels of objects and lists below the event (its `data` is level 1) or below a webhook body */
  depth: 32,
  /** characters in one string value */
  stringLength: 262_144,
  /** items in one list */
  listSize: 10_000,
  /** keys in one object */
  keysPerObject: 1_000,
  /** characters in one object key */
  keyLength: 256,
} as const

export interface LimitIssue {
  /** the field, as `data.line_items[3].title` */
  path: string
  message: string
}

/**
 * The NUL character: PostgreSQL refuses it in text and JSON (error 22021) and SQLite keeps it, so
 * text holding it is refused on every path, on both, before anything is stored. No shop sends it.
 */
export const NUL = '\u0000'
export const NUL_MESSAGE = 'contains the NUL character (\\u0000), which is not accepted'

/** Keys a JavaScript object cannot hold as plain data; the HTTP API's JSON parser refuses them too. */
const FORBIDDEN_KEY = '__proto__'

interface Frame {
  value: unknown
  depth: number
  parent: Frame | null
  key: string | number | null
}

/**
 * The first way `value` breaks a limit, or null. `rootLevel` is the level of `value` itself: 0
 * for an event (so its `data` is level 1), 1 for a webhook body (it becomes an event's data).
 * The walk is iterative: a recursive one would
 * itself overflow the stack on the very input it is there to refuse. Paths are built only for the
 * answer, so a wide value costs no string work per node.
 */
export function checkLimits(value: unknown, root: string, rootLevel = 0): LimitIssue | null {
  const stack: Frame[] = [{ value, depth: rootLevel, parent: null, key: null }]
  while (stack.length > 0) {
    const frame = stack.pop()!
    const v = frame.value
    if (typeof v === 'string') {
      if (v.length > INGEST_LIMITS.stringLength)
        return issue(frame, root, `text of ${v.length} characters is over the string length limit of ${INGEST_LIMITS.stringLength}`)
      if (v.includes(NUL)) return issue(frame, root, NUL_MESSAGE)
      continue
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return issue(frame, root, 'a number too large for a double (like 1e400) is not accepted')
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (frame.depth > INGEST_LIMITS.depth) return issue(frame, root, `nested deeper than the depth limit of ${INGEST_LIMITS.depth} levels`)
    if (Array.isArray(v)) {
      if (v.length > INGEST_LIMITS.listSize) return issue(frame, root, `a list of ${v.length} items is over the list size limit of ${INGEST_LIMITS.listSize}`)
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth: frame.depth + 1, parent: frame, key: i })
      continue
    }
    const keys = Object.keys(v)
    if (keys.length > INGEST_LIMITS.keysPerObject)
      return issue(frame, root, `an object of ${keys.length} keys is over the limit of ${INGEST_LIMITS.keysPerObject} keys per object`)
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!
      if (k.length > INGEST_LIMITS.keyLength)
        return issue(frame, root, `a key of ${k.length} characters is over the key length limit of ${INGEST_LIMITS.keyLength}`)
      if (k === FORBIDDEN_KEY) return issue(frame, root, `the key "${FORBIDDEN_KEY}" is not accepted`)
      if (k.includes(NUL)) return issue(frame, root, `a key ${NUL_MESSAGE}`)
      // a `constructor` holding a `prototype` is how prototype pollution is spelled in JSON
      if (
        k === 'constructor' &&
        isObject((v as Record<string, unknown>)[k]) &&
        Object.hasOwn((v as Record<string, Record<string, unknown>>)[k]!, 'prototype')
      ) {
        return issue(frame, root, 'the key "constructor" holding a "prototype" is not accepted')
      }
      stack.push({ value: (v as Record<string, unknown>)[k], depth: frame.depth + 1, parent: frame, key: k })
    }
  }
  return null
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function issue(frame: Frame, root: string, message: string): LimitIssue {
  const steps: Array<string | number> = []
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) steps.push(f.key)
  steps.reverse()
  let path = root
  for (const step of steps) {
    if (typeof step === 'number') path += `[${step}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(step)) path += path === '' ? step : `.${step}`
    else path += `[${JSON.stringify(step.length > 40 ? `${step.slice(0, 40)}…` : step)}]`
  }
  return { path, message }
}
