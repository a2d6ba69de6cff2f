import { createHmac, timingSafeEqual } from 'node:crypto'

export function hmacSha256(key: Buffer | string, ...parts: Buffer[]): Buffer {
  const mac = createHmac('sha256', key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

/**
 * Constant-time comparison of a computed digest with a base64 signature from a header
 * (SIGNATURES.md rule 2). Decoding first means a length mismatch is rejected before
 * `timingSafeEqual`, which throws on buffers of unequal length.
 */
export function equalsBase64(expected: Buffer, base64: string): boolean {
  const given = Buffer.from(base64.trim(), 'base64')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Constant-time string comparison for shared-secret headers. */
export function equalsString(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8')
  const b = Buffer.from(given, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}
