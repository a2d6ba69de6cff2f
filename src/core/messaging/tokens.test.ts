import { describe, expect, it } from 'vitest'
import {
  clickUrl,
  signClickToken,
  signOpenToken,
  signUnsubscribeToken,
  unsubscribeUrl,
  verifyClickToken,
  verifyOpenToken,
  verifyUnsubscribeToken,
} from './tokens.ts'

const SECRET = 'a-secret-key'

describe('signed message tokens', () => {
  it('round-trips click, open and unsubscribe tokens', () => {
    expect(verifyClickToken(SECRET, signClickToken(SECRET, 'msg_1', 'https://shop.test/p?a=1&b=2'))).toEqual({
      kind: 'click',
      messageId: 'msg_1',
      url: 'https://shop.test/p?a=1&b=2',
    })
    expect(verifyOpenToken(SECRET, signOpenToken(SECRET, 'msg_1'))).toEqual({ kind: 'open', messageId: 'msg_1' })
    expect(verifyUnsubscribeToken(SECRET, signUnsubscribeToken(SECRET, 'default', 'cus_1'))).toEqual({
      kind: 'unsubscribe',
      storeId: 'default',
      customerKey: 'cus_1',
    })
  })

  it('uses URL-safe characters only', () => {
    expect(signClickToken(SECRET, 'msg_1', 'https://x.test/?q=ü')).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  })

  it('rejects a token signed with another key', () => {
    expect(verifyOpenToken(SECRET, signOpenToken('other-key', 'msg_1'))).toBeNull()
  })

  it('rejects an altered payload or signature', () => {
    const token = signClickToken(SECRET, 'msg_1', 'https://shop.test/')
    const [body, mac] = token.split('.') as [string, string]
    const forgedBody = Buffer.from(JSON.stringify({ k: 'c', m: 'msg_1', u: 'https://evil.test/' })).toString('base64url')
    expect(verifyClickToken(SECRET, `${forgedBody}.${mac}`)).toBeNull()
    const flipped = mac.slice(0, -1) + (mac.endsWith('A') ? 'B' : 'A')
    expect(verifyClickToken(SECRET, `${body}.${flipped}`)).toBeNull()
    expect(verifyClickToken(SECRET, `${body}.`)).toBeNull()
    expect(verifyClickToken(SECRET, body)).toBeNull()
    expect(verifyClickToken(SECRET, '')).toBeNull()
    expect(verifyClickToken(SECRET, `${token}.x`)).toBeNull()
  })

  it('does not accept one kind of token as another', () => {
    const open = signOpenToken(SECRET, 'msg_1')
    expect(verifyClickToken(SECRET, open)).toBeNull()
    expect(verifyUnsubscribeToken(SECRET, open)).toBeNull()
    expect(verifyOpenToken(SECRET, signUnsubscribeToken(SECRET, 's', 'c'))).toBeNull()
  })

  it('never redirects to a non-web URL even when signed', () => {
    expect(verifyClickToken(SECRET, signClickToken(SECRET, 'msg_1', 'javascript:alert(1)'))).toBeNull()
  })

  it('builds the public paths', () => {
    expect(clickUrl('https://sf.test/', SECRET, 'm', 'https://a.test/')).toMatch(/^https:\/\/sf\.test\/t\/c\/[\w-]+\.[\w-]+$/)
    expect(unsubscribeUrl('https://sf.test', SECRET, 's', 'c')).toMatch(/^https:\/\/sf\.test\/u\/[\w-]+\.[\w-]+$/)
  })
})
