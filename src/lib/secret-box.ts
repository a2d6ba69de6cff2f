import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/**
 * Secrets at rest (webhook secrets, shop API tokens): AES-256-GCM under a key derived with
 * HKDF-SHA256 from STOREFLOW_SECRET_KEY (config.secretKey). A sealed value is
 * `sb1.<base64url(iv ‖ tag ‖ ciphertext)>`; `context` (e.g. "connector:<id>:secrets") is bound as
 * additional data, so a sealed value copied to another row or column does not open.
 *
 * Changing STOREFLOW_SECRET_KEY makes existing sealed values unreadable: `open` throws and the
 * secrets have to be entered again.
 */

const PREFIX = 'sb1.'
const IV_BYTES = 12
const TAG_BYTES = 16
const keyCache = new Map<string, Buffer>()

function deriveKey(secretKey: string): Buffer {
  let key = keyCache.get(secretKey)
  if (!key) {
    if (!secretKey) throw new Error('encrypting secrets at rest needs STOREFLOW_SECRET_KEY')
    key = Buffer.from(hkdfSync('sha256', Buffer.from(secretKey, 'utf8'), Buffer.from('storeflow'), Buffer.from('secret-box v1'), 32))
    keyCache.set(secretKey, key)
  }
  return key
}

export function seal(secretKey: string, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secretKey), iv)
  cipher.setAAD(Buffer.from(context, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')
}

export class SecretBoxError extends Error {}

export function open(secretKey: string, sealed: string, context: string): string {
  if (!sealed.startsWith(PREFIX)) throw new SecretBoxError('not a sealed value')
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url')
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('sealed value is truncated')
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(secretKey), raw.subarray(0, IV_BYTES))
  decipher.setAAD(Buffer.from(context, 'utf8'))
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch (err) {
    throw new SecretBoxError('sealed value does not open with this STOREFLOW_SECRET_KEY (was the key changed?)', { cause: err })
  }
}
