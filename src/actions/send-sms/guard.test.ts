import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestEnv, type TestEnv } from '../../../test/helpers/dialects.ts'
import { apiClient, fakeResolver, startRecorder, type ApiClient, type Recorder } from '../../../test/helpers/outbound.ts'

/**
 * send_sms posts to the provider through the guarded client: the provider's
 * host is resolved by the app's resolver (injected here: nothing depends on the host's DNS) and
 * checked where the connection is made. Driven through the HTTP API and the engine; the provider
 * is a local server that counts what reaches it.
 */

const resolveHost = fakeResolver({ 'sms.example.com': ['127.0.0.1'] })
let provider: Recorder
let env: TestEnv | null = null
let api: ApiClient | null = null
const saved = { url: process.env.STOREFLOW_SMS_URL, from: process.env.STOREFLOW_SMS_FROM }

beforeAll(async () => {
  provider = await startRecorder((res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"sid":"SM1"}'))
  process.env.STOREFLOW_SMS_URL = `http://AC1:token@sms.example.com:${provider.port}/2010-04-01/Accounts/AC1/Messages.json`
  process.env.STOREFLOW_SMS_FROM = '+15550009999'
})
afterAll(async () => {
  for (const [name, value] of [
    ['STOREFLOW_SMS_URL', saved.url],
    ['STOREFLOW_SMS_FROM', saved.from],
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  await provider.close()
})
afterEach(async () => {
  provider.hits.length = 0
  await api?.server.close()
  await env?.cleanup()
  env = null
  api = null
})

async function sendOne(allowPrivate: boolean) {
  env = await createTestEnv('sqlite', { env: allowPrivate ? { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } : {}, resolveHost })
  api = await apiClient(env)
  const workflow = `
id: text-on-paid
name: Text on paid
active: true
trigger: { event: order.paid }
steps:
  - action: send_sms
    id: text
    with:
      to: '+15550001111'
      body: 'Order {{ order.number }} is paid'
      category: transactional
`
  expect((await api.call('POST', '/api/v1/workflows', workflow, { 'content-type': 'application/yaml' })).statusCode).toBe(201)
  const event = { id: 'p1', type: 'order.paid', data: { id: 'o1', number: '#1001', currency: 'USD', total_price: '12.50', customer: { id: 'c1' } } }
  expect((await api.call('POST', '/api/v1/events', event)).statusCode).toBe(202)
  await env.app.engine.drain()
  const [run] = (await api.call('GET', '/api/v1/runs?workflow=text-on-paid')).json().items
  const step = (await api.call('GET', `/api/v1/runs/${run.id}`)).json().steps.find((s: { id: string }) => s.id === 'text')
  const [message] = (await api.call('GET', '/api/v1/messages?channel=sms')).json().items
  return { step, message }
}

describe('send_sms and the guarded client', () => {
  it('a provider host that resolves to 127.0.0.1 is refused without STOREFLOW_ALLOW_PRIVATE_HTTP=1: nothing reaches it, the step and the message fail naming why', async () => {
    const { step, message } = await sendOne(false)
    expect(provider.hits).toHaveLength(0)
    expect(step).toMatchObject({ status: 'failed' })
    expect(step.error).toMatch(/sms\.example\.com resolves to 127\.0\.0\.1, a private or loopback address; set STOREFLOW_ALLOW_PRIVATE_HTTP=1/)
    expect(message).toMatchObject({ status: 'failed' })
  })

  it('allowed by the operator, the same provider URL is reached through the same resolver', async () => {
    const { step, message } = await sendOne(true)
    expect(provider.hits).toHaveLength(1)
    expect(step).toMatchObject({ status: 'completed' })
    expect(message).toMatchObject({ status: 'sent' })
  })
})
