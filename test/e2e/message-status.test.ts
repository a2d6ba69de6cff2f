import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterEach, describe, expect, it } from 'vitest'
import { parseEvent } from '../../src/contracts/events.ts'
import { closeSmtpTransports, sendEmail } from '../../src/actions/send-email/index.ts'
import { createTestEnv, type TestEnv } from '../helpers/dialects.ts'
import { installWorkflow } from '../helpers/workflows.ts'

/** The outbox row tells the truth when a message will never leave: bounced or failed, not queued. */
describe('message status when delivery ends badly', () => {
  let env: TestEnv | null = null
  let server: SMTPServer | null = null
  afterEach(async () => {
    closeSmtpTransports()
    await env?.cleanup()
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    env = null
    server = null
  })

  const start = async (options: ConstructorParameters<typeof SMTPServer>[0]) => {
    server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, ...options })
    server.on('error', () => undefined)
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
    env = await createTestEnv('sqlite', { env: { SMTP_URL: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}` } })
    await installWorkflow(
      env.app,
      `
id: receipt
name: Receipt
trigger: { event: order.paid }
steps:
  - action: send_email
    with: { category: transactional, subject: 'Order {{ order.number }}', html: '<p>Thanks</p>' }
`,
    )
    const parsed = parseEvent(
      { id: 'p1', type: 'order.paid', data: { id: 'o1', number: '#1', currency: 'USD', total_price: 5, customer: { id: 'c1', email: 'gone@example.com' } } },
      { store: 'default', now: env.clock.now() },
    )
    if (!parsed.ok) throw new Error('fixture')
    await env.app.engine.ingest([parsed.event], { historical: false, source: 'test' })
    return env
  }
  const message = async (e: TestEnv) => e.app.handle.db.selectFrom('messages').select(['status', 'error']).executeTakeFirstOrThrow()

  it('a recipient refused with 550 at RCPT TO is a bounce', async () => {
    const e = await start({ onRcptTo: (_address, _session, callback) => callback(Object.assign(new Error('No such user'), { responseCode: 550 })) })
    await e.app.engine.drain()
    expect(await message(e)).toMatchObject({ status: 'bounced' })
    expect((await e.app.handle.db.selectFrom('runs').select('status').executeTakeFirstOrThrow()).status).toBe('failed')
  })

  it('a server that answers 451 on every attempt leaves the message failed once the engine gives up', async () => {
    const e = await start({
      onData: (stream, _session, callback) => {
        stream.resume()
        stream.on('end', () => callback(Object.assign(new Error('Try later'), { responseCode: 451 })))
      },
    })
    for (let i = 0; i < 10; i++) {
      await e.app.engine.drain()
      e.clock.advance(3_600_000)
    }
    const step = await e.app.handle.db.selectFrom('run_steps').select(['status', 'attempts']).executeTakeFirstOrThrow()
    expect(step).toEqual({ status: 'failed', attempts: sendEmail.retry.maxAttempts })
    expect(await message(e)).toMatchObject({ status: 'failed' })
  })
})
