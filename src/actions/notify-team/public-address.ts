import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { PermanentError } from '../../plugin-api/index.ts'

/**
 * A webhook URL comes from a workflow file, so it must not become a way to reach the machine's
 * own network (cloud metadata, the database, admin ports) unless the operator allows it
 * (`allowPrivateHttp`). Checked on the resolved addresses, not the name.
 */
export async function assertPublicUrl(url: URL, allowPrivate: boolean): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PermanentError(`notify_team: webhook_url must be http(s), got ${url.protocol}`, { reason: 'invalid_url' })
  }
  if (allowPrivate) return
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address)
  const blocked = addresses.find(isPrivateAddress)
  if (blocked) {
    throw new PermanentError(`notify_team: ${url.hostname} resolves to a private address (${blocked}); set STOREFLOW_ALLOW_PRIVATE_HTTP to allow it`, {
      reason: 'private_address',
    })
  }
}

export function isPrivateAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (isIP(v4) === 4) {
    const [a = 0, b = 0] = v4.split('.').map(Number)
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224
  }
  const v6 = address.toLowerCase()
  return v6 === '::' || v6 === '::1' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe80')
}
