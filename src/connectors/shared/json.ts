import { parse } from 'lossless-json'

/**
 * Parses a shop's JSON without losing integers above 2^53: Shopify ids such as 820982911946154508
 * would be rounded by JSON.parse (SIGNATURES.md rule 1). Unsafe integers become their exact digit
 * string; every other number stays a JS number. Parse only after the signature was checked on the raw bytes.
 */
export function parseJsonLossless(text: string): unknown {
  return parse(text, null, (digits) => {
    const n = Number(digits)
    if (/^-?\d+$/.test(digits) && !Number.isSafeInteger(n)) return digits
    return n
  })
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Parses a delivery body as a JSON object; anything else becomes `{ body: <text> }` so nothing is lost. */
export function parseBodyObject(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8')
  try {
    const value = parseJsonLossless(text)
    return isRecord(value) ? value : { body: value }
  } catch {
    return { body: text }
  }
}
