import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestEnv, type TestEnv } from '../../../test/helpers/dialects.ts'
import { apiClient, fakeResolver, startRecorder, type ApiClient, type Recorder } from '../../../test/helpers/outbound.ts'

/**
 * notify_team posts to the chat webhook through the guarded client: the
 * webhook's host comes from a workflow file, is resolved by the app's resolver (injected here:
 * nothing depends on the host's DNS) and checked where the connection is made. Driven through
 * the HTTP API and the engine; the chat webhook is a local server that counts what reaches it.
 */

const resolveHost = fakeResolver({ 'chat.example.com': ['127.0.0.1'] })
let chat: Recorder
let env: TestEnv | null = null
let api: ApiClient | null = null

beforeAll(async () => {
  chat = await startRecorder((res) => res.writeHead(200).end('ok'))
})
afterAll(() => chat.close())
afterEach(async () => {
  chat.hits.length = 0
  await api?.server.close()
  await env?.cleanup()
  env = null
  api = null
})

async function notifyOnce(allowPrivate: boolean) {
  env = await createTestEnv('sqlite', { env: allowPrivate ? { STOREFLOW_ALLOW_PRIVATE_HTTP: '1' } : {}, resolveHost })
  api = await apiClient(env)
  const workflow = `
id: tell-team
name: Tell the team
active: true
trigger: { event: order.paid }
steps:
  - action: notify_team
    id: tell
    with:
      text: 'Order {{ order.number }} is paid'
      webhook_url: 'http://chat.example.com:${chat.port}/hooks/sales'
`
  expect((await api.call('POST', '/api/v1/workflows', workflow, { 'content-type': 'application/yaml' })).statusCode).toBe(201)
  const event = { id: 'p1', type: 'order.paid', data: { id: 'o1', number: '#1001', currency: 'USD', total_price: '12.50', customer: { id: 'c1' } } }
  expect((await api.call('POST', '/api/v1/events', event)).statusCode).toBe(202)
  await env.app.engine.drain()
  const [run] = (await api.call('GET', '/api/v1/runs?workflow=tell-team')).json().items
  const step = (await api.call('GET', `/api/v1/runs/${run.id}`)).json().steps.find((s: { id: string }) => s.id === 'tell')
  const [message] = (await api.call('GET', '/api/v1/messages?channel=chat')).json().items
  return { step, message }
}

describe('notify_team and the guarded client', () => {
  it('a webhook host that resolves to 127.0.0.1 is refused without STOREFLOW_ALLOW_PRIVATE_HTTP=1: nothing reaches it, the step and the message fail naming why', async () => {
    const { step, message } = await notifyOnce(false)
    expect(chat.hits).toHaveLength(0)
    expect(step).toMatchObject({ status: 'failed' })
    expect(step.error).toMatch(/chat\.example\.com resolves to 127\.0\.0\.1, a private or loopback address; set STOREFLOW_ALLOW_PRIVATE_HTTP=1/)
    expect(message).toMatchObject({ status: 'failed' })
  })

  it('allowed by the operator, the same webhook is reached through the same resolver', async () => {
    const { step, message } = await notifyOnce(true)
    expect(chat.hits).toHaveLength(1)
    expect(JSON.parse(chat.hits[0]!.body)).toEqual({ text: 'Order #1001 is paid' })
    expect(step).toMatchObject({ status: 'completed' })
    expect(message).toMatchObject({ status: 'sent' })
  })
})
