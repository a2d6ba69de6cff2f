import type { FastifyReply, FastifyRequest } from 'fastify'
import { UserError } from '../lib/errors.ts'
import type { KeyScope, KeysService } from '../services/keys.ts'
import { signInBySession } from './session-auth.ts'

declare module 'fastify' {
  interface FastifyRequest {
    storeId: string
    keyScope: KeyScope
  }
}

/** An admin key may do all that read and ingest keys may. */
function allows(have: KeyScope, need: KeyScope): boolean {
  return have === 'admin' || have === need
}

const cache = new Map<string, { key: Awaited<ReturnType<KeysService['find']>>; at: number }>()
/** keys are looked up per request; a short cache keeps ingest fast, revocation takes effect within it */
const CACHE_MS = 5_000

/**
 * Bearer API key → store and scope; each key is bound to one store. Without a Bearer key, the
 * dashboard's session cookie (session-auth.ts): admin of the store X-Storeflow-Store names.
 */
export function requireScope(keys: Pick<KeysService, 'find'>, need: KeyScope) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined
    if (!token) {
      if (await signInBySession(request)) return
      throw new UserError('missing API key: send Authorization: Bearer <key> (create one with: storeflow keys create)', { code: 'unauthorized' })
    }
    const hit = cache.get(token)
    let key = hit && Date.now() - hit.at < CACHE_MS ? hit.key : undefined
    if (key === undefined) {
      key = await keys.find(token)
      cache.set(token, { key, at: Date.now() })
      if (cache.size > 10_000) cache.clear()
    }
    if (!key) throw new UserError('invalid or revoked API key', { code: 'unauthorized' })
    if (!allows(key.scope, need)) throw new UserError(`this ${key.scope} key may not do this; it needs the ${need} scope`, { code: 'forbidden' })
    request.storeId = key.store
    request.keyScope = key.scope
    request.actor = `key:${key.id}`
  }
}

export function forgetKeys(): void {
  cache.clear()
}
