import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { clickUrl } from '../../src/core/messaging/index.ts'
import { buildServer } from '../../src/http/server.ts'
import { createTestEnv, type TestEnv } from '../helpers/dialects.ts'

describe('click redirects', () => {
  let env: TestEnv
  beforeEach(async () => {
    env = await createTestEnv('sqlite')
  })
  afterEach(async () => {
    await env.cleanup()
  })

  it.each([
    ['https://shop.test/商品/靴', 'https://shop.test/%E5%95%86%E5%93%81/%E9%9D%B4'],
    ['https://shop.test/p?utm=🎉', 'https://shop.test/p?utm=%F0%9F%8E%89'],
    ['https://shop.test/produkte/größe-m?q=café', 'https://shop.test/produkte/gr%C3%B6%C3%9Fe-m?q=caf%C3%A9'],
  ])('%s redirects, percent-encoded', async (url, location) => {
    const server = await buildServer(env.app)
    const link = new URL(clickUrl('http://localhost:3000', env.config.secretKey, 'msg_unknown', url))
    const res = await server.inject({ method: 'GET', url: link.pathname })
    expect(res.statusCode).toBe(302)
    expect(res.headers.location).toBe(location)
    await server.close()
  })
})
