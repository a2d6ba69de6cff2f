import { describe, expect, it } from 'vitest'
import { open, seal, SecretBoxError } from './secret-box.ts'

describe('secret box', () => {
  it('round-trips, never contains the plaintext, and differs on every seal', () => {
    const a = seal('key-1', 'shpss_super-secret', 'connector:c1:secrets')
    const b = seal('key-1', 'shpss_super-secret', 'connector:c1:secrets')
    expect(a).not.toBe(b)
    expect(a).not.toContain('super-secret')
    expect(Buffer.from(a.slice(4), 'base64url').toString('latin1')).not.toContain('super-secret')
    expect(open('key-1', a, 'connector:c1:secrets')).toBe('shpss_super-secret')
  })

  it('refuses another key, another context, or a tampered value', () => {
    const sealed = seal('key-1', 'token', 'connector:c1:access_token')
    expect(() => open('key-2', sealed, 'connector:c1:access_token')).toThrow(SecretBoxError)
    expect(() => open('key-1', sealed, 'connector:c2:access_token')).toThrow(SecretBoxError)
    const raw = Buffer.from(sealed.slice(4), 'base64url')
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1
    expect(() => open('key-1', `sb1.${raw.toString('base64url')}`, 'connector:c1:access_token')).toThrow(SecretBoxError)
    expect(() => open('key-1', 'plaintext', 'x')).toThrow(SecretBoxError)
  })
})
