import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PermanentError, RetryableError } from '../../plugin-api/index.ts'
import { actionContext, actionEnv, type ActionEnv } from '../../../test/helpers/action-context.ts'
import { DIALECTS } from '../../../test/helpers/dialects.ts'
import { createNotifyTeamAction, notifyTeam } from './index.ts'
import { isPrivateAddress } from '../../lib/private-address.ts'
import { putIntegration } from '../../store/integrations.repo.ts'

let server: Server
let hook: string
let posts: unknown[] = []
let paths: string[] = []
let answers: Array<{ status: number; body: string }> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      paths.push(req.url ?? '')
      const answer = answers.shift()
      if (answer) return void res.writeHead(answer.status).end(answer.body)
      posts.push({ contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString()) })
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/secret`
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

beforeEach(() => {
  posts = []
  paths = []
  answers = []
})

const scope = { order: { name: '#1001', total_price: '512.00' } }

describe.each(DIALECTS)('notify_team on the %s outbox', (dialect) => {
  let a: ActionEnv | undefined
  afterEach(async () => {
    await a?.cleanup()
    a = undefined
  })
  /** the action's services over a fresh database */
  async function setup(config: { allowPrivateHttp?: boolean } = {}) {
    a = await actionEnv(dialect, { config })
    return { clock: a.clock, services: a.services }
  }

  it("a customer's name cannot ping a channel or forge a link: &, < and > of every value are escaped as Slack documents (it shows them as typed), the store's own link markup is kept", async () => {
    const { clock, services } = await setup()
    const input = {
      text: '<https://admin.example.com/orders|Order {{ order.name }}>: {{ customer.first_name }} ({{ customer.email }})',
      webhook_url: hook,
    }
    const hostile = { ...scope, customer: { first_name: '<!channel> <https://evil.example|click> & co', email: 'eve@example.test' } }
    await notifyTeam.run(actionContext(input, { services, clock, scope: hostile }))
    expect(posts).toEqual([
      {
        contentType: 'application/json',
        body: { text: '<https://admin.example.com/orders|Order #1001>: &lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co (eve@example.test)' },
      },
    ])
  })

  it('posts the rendered text as Slack-style JSON, once per step', async () => {
    const { clock, services } = await setup()
    const input = { text: '{{ customer.email }} ordered {{ order.name }} ({{ order.total_price | money }})', webhook_url: hook }
    const out = await notifyTeam.run(actionContext(input, { services, clock, scope }))
    expect(out).toMatchObject({ status: 'sent', text: 'ada@example.test ordered #1001 ($512.00)' })
    expect(posts).toEqual([{ contentType: 'application/json', body: { text: 'ada@example.test ordered #1001 ($512.00)' } }])
    expect((await a!.outbox())[0]).toMatchObject({ channel: 'chat', status: 'sent', to: new URL(hook).origin })
    expect((await notifyTeam.run(actionContext(input, { services, clock, scope }))).already_sent).toBe(true)
    expect(posts).toHaveLength(1)
  })

  it('uses STOREFLOW_TEAM_WEBHOOK_URL when the step names none', async () => {
    const { clock, services } = await setup()
    const action = createNotifyTeamAction({ defaultWebhookUrl: () => hook })
    await action.run(actionContext({ text: 'hello' }, { services, clock }))
    expect(posts).toHaveLength(1)
  })

  it("posts to the store's team_chat integration before STOREFLOW_TEAM_WEBHOOK_URL; the step's webhook_url before both", async () => {
    const { clock, services } = await setup()
    const action = createNotifyTeamAction({ defaultWebhookUrl: () => `${hook}/process-wide` })
    // no integration: the process-wide default (the receiver answers every path)
    await action.run(actionContext({ text: 'one' }, { services, clock }))
    await putIntegration(
      a!.env.app.handle.db,
      'test-secret-key-0123456789',
      'default',
      'team_chat',
      { credentials: { webhook_url: `${hook}/store` } },
      clock.now(),
    )
    await action.run(actionContext({ text: 'two' }, { services, clock, stepKey: 'two' }))
    await action.run(actionContext({ text: 'three', webhook_url: `${hook}/step` }, { services, clock, stepKey: 'three' }))
    expect(paths).toEqual([`${new URL(hook).pathname}/process-wide`, `${new URL(hook).pathname}/store`, `${new URL(hook).pathname}/step`])
  })

  it('a team_chat integration needs an http(s) webhook_url, named when missing or wrong', async () => {
    const { clock } = await setup()
    const put = (credentials: unknown) =>
      Promise.resolve()
        .then(() => putIntegration(a!.env.app.handle.db, 'test-secret-key-0123456789', 'default', 'team_chat', { credentials }, clock.now()))
        .catch((e: Error) => e.message)
    expect(await put({})).toBe('credentials.webhook_url: required, a non-empty string')
    expect(await put({ webhook_url: 'ftp://chat.example/hook' })).toBe('credentials.webhook_url: must be an http(s) URL')
    expect(await put({ webhook_url: 'not a url' })).toBe('credentials.webhook_url: must be an http(s) URL')
  })

  it('retries on 5xx and fails on 4xx', async () => {
    const { clock, services } = await setup()
    answers = [
      { status: 500, body: 'oops' },
      { status: 404, body: 'no_service' },
    ]
    const first = await notifyTeam.run(actionContext({ text: 'x', webhook_url: hook }, { services, clock })).catch((e: unknown) => e)
    expect(first).toBeInstanceOf(RetryableError)
    const second = await notifyTeam.run(actionContext({ text: 'x', webhook_url: hook }, { services, clock })).catch((e: unknown) => e)
    expect(second).toBeInstanceOf(PermanentError)
    expect((second as Error).message).toContain('no_service')
  })

  it('refuses private addresses unless allowed', async () => {
    const { clock, services } = await setup({ allowPrivateHttp: false })
    const err = await notifyTeam.run(actionContext({ text: 'x', webhook_url: hook }, { services, clock })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PermanentError)
    expect((err as PermanentError).reason).toBe('private_address')
    expect(posts).toHaveLength(0)
    expect(isPrivateAddress('10.1.2.3')).toBe(true)
    expect(isPrivateAddress('169.254.169.254')).toBe(true)
    expect(isPrivateAddress('::1')).toBe(true)
    expect(isPrivateAddress('93.184.216.34')).toBe(false)
  })

  it('renders only in a dry run', async () => {
    const { clock, services } = await setup()
    const out = await notifyTeam.run(actionContext({ text: 'Hi {{ customer.first_name }}' }, { services, clock, dryRun: true }))
    expect(out).toMatchObject({ status: 'rendered', text: 'Hi Ada' })
    for (const example of notifyTeam.examples ?? []) expect(notifyTeam.input.safeParse(example).success).toBe(true)
  })
})
