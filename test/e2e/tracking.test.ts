import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/actions/send-email/index.ts'
import { clickUrl } from '../../src/core/messaging/index.ts'
import { buildServer } from '../../src/http/server.ts'
import { silentLogger } from '../../src/lib/logger.ts'
import { createApp } from '../../src/main.ts'
import { createKey, createStore } from '../../src/store/stores.repo.ts'
import { DIALECTS, createTestEnv, type DialectName, type TestEnv } from '../helpers/dialects.ts'
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts'

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

/**
 * Mail clients prefetch images, link scanners fetch every link, people double-click: each of
 * those is counted on the message, but a workflow hears of a message being opened once, and of
 * each of its links being clicked once.
 */
const PUBLIC_URL = 'https://mail.shop.test'

const PROMO = `
id: promo
name: Promo
trigger: { event: order.paid }
steps:
  - action: send_email
    id: promo
    with:
      category: transactional
      subject: 'Order {{ order.number }}'
      html: |
        <p><a href="https://shop.example/orders/{{ order.id }}">Your order</a></p>
        <p><a href="https://shop.example/sale">Our sale</a></p>
`

const ON_OPEN = `
id: on-open
name: Opened
trigger: { event: message.opened }
steps:
  - action: log
    with: { message: 'opened {{ event.data.message_id }}' }
`

interface Store {
  id: string
  admin: string
}

/** GET with the store's key, on whichever server (process) is up */
const get = (server: FastifyInstance, store: Store, url: string) => server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${store.admin}` } })

async function storeWithKeys(server: FastifyInstance, env: TestEnv, id: string): Promise<Store> {
  const db = env.app.handle.db
  if (id !== 'default') await createStore(db, { id, name: `Store ${id}` }, env.clock.now())
  const admin = (await createKey(db, id, 'admin', env.clock.now())).key
  const ingest = (await createKey(db, id, 'ingest', env.clock.now())).key
  const auth = (key: string) => ({ authorization: `Bearer ${key}` })
  for (const yaml of [PROMO, ON_OPEN]) {
    const saved = await server.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { ...auth(admin), 'content-type': 'application/yaml' },
      payload: yaml,
    })
    expect(saved.statusCode).toBe(201)
    expect((await server.inject({ method: 'POST', url: `/api/v1/workflows/${saved.json().id}/activate`, headers: auth(admin) })).statusCode).toBe(200)
  }
  const order = {
    id: 'paid-1',
    type: 'order.paid',
    occurred_at: '2026-03-02T09:59:00Z',
    data: { id: '5001', number: '#5001', currency: 'USD', total_price: '45.00', customer: { id: 'c-1', email: `ada@${id}.example` } },
  }
  expect((await server.inject({ method: 'POST', url: '/api/v1/events', headers: auth(ingest), payload: order })).statusCode).toBe(202)
  return { id, admin }
}

/** The tracked links and the open pixel of the mail that went to this address, as paths on the public URL. */
function trackingOf(smtp: SmtpSink, to: string): { pixel: string; clicks: string[] } {
  const mail = smtp.received.find((m) => !Array.isArray(m.to) && m.to?.value[0]?.address === to)
  if (!mail) throw new Error(`no mail to ${to}`)
  const html = String(mail.html)
  const path = (link: string) => {
    const url = new URL(link.replace(/&amp;/g, '&'))
    expect(url.origin).toBe(PUBLIC_URL)
    return url.pathname
  }
  const clicks = [...html.matchAll(/<a\b[^>]*\shref="([^"]+\/t\/c\/[^"]+)"/gi)].map((m) => path(m[1]!))
  const pixel = /<img[^>]+src="([^"]+\/t\/o\/[^"]+)"/.exec(html)?.[1]
  expect(clicks).toHaveLength(2)
  expect(pixel).toBeDefined()
  return { pixel: path(pixel!), clicks }
}

let smtp: SmtpSink
beforeAll(async () => {
  smtp = await startSmtpSink()
})
afterAll(async () => {
  closeSmtpTransports()
  await smtp.close()
})
beforeEach(() => {
  smtp.received.length = 0
})

async function mailedEnv(dialect: DialectName) {
  const env = await createTestEnv(dialect, { env: { SMTP_URL: smtp.url, STOREFLOW_PUBLIC_URL: PUBLIC_URL } })
  const server = await buildServer(env.app)
  const a = await storeWithKeys(server, env, 'default')
  const b = await storeWithKeys(server, env, 'store-b')
  await env.app.engine.drain()
  expect(smtp.received).toHaveLength(2)
  return { env, server, a, b }
}

const count = async (server: FastifyInstance, store: Store, type: string, filter: (data: Record<string, unknown>) => boolean = () => true) => {
  const res = await get(server, store, `/api/v1/events?type=${type}`)
  expect(res.statusCode).toBe(200)
  return (res.json().items as Array<{ data: Record<string, unknown> }>).filter((e) => filter(e.data)).length
}

const messageRow = async (server: FastifyInstance, store: Store) => {
  const items = (await get(server, store, '/api/v1/messages')).json().items as Array<Record<string, unknown>>
  expect(items).toHaveLength(1)
  return items[0]!
}

describe.each(DIALECTS)('open and click events on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  it('repeated and concurrent opens and clicks emit one message.opened per message and one message.clicked per link, and count every one', async () => {
    let a: Store
    let b: Store
    ;({ env, server, a, b } = await mailedEnv(dialect))
    const mailA = trackingOf(smtp, 'ada@default.example')
    const mailB = trackingOf(smtp, 'ada@store-b.example')
    const hit = (path: string) => server.inject({ method: 'GET', url: path })

    // opens: a prefetch, the reader, then three at once
    expect((await hit(mailA.pixel)).statusCode).toBe(200)
    expect((await hit(mailA.pixel)).statusCode).toBe(200)
    for (const res of await Promise.all([hit(mailA.pixel), hit(mailA.pixel), hit(mailA.pixel)])) expect(res.statusCode).toBe(200)
    // clicks: the first link twice in a row and twice at once, the second link once
    for (const res of [await hit(mailA.clicks[0]!), await hit(mailA.clicks[0]!), ...(await Promise.all([hit(mailA.clicks[0]!), hit(mailA.clicks[0]!)]))]) {
      expect(res.statusCode).toBe(302)
      expect(res.headers.location).toBe('https://shop.example/orders/5001')
    }
    expect((await hit(mailA.clicks[1]!)).headers.location).toBe('https://shop.example/sale')

    expect(await count(server, a, 'message.opened')).toBe(1)
    expect(await count(server, a, 'message.clicked', (d) => d.url === 'https://shop.example/orders/5001')).toBe(1)
    expect(await count(server, a, 'message.clicked', (d) => d.url === 'https://shop.example/sale')).toBe(1)
    expect(await count(server, a, 'message.clicked')).toBe(2)
    // the message's counters still see every open and click
    expect(await messageRow(server, a)).toMatchObject({ opens: 5, clicks: 5 })
    // and the workflow listening for opens ran once
    await env.app.engine.drain()
    expect((await get(server, a, '/api/v1/runs?workflow=on-open')).json().items).toHaveLength(1)

    // store B's message is its own: its open is its own event, in its own store, and A's are not B's
    expect(await count(server, b, 'message.opened')).toBe(0)
    await hit(mailB.pixel)
    await hit(mailB.pixel)
    expect(await count(server, b, 'message.opened')).toBe(1)
    expect(await count(server, b, 'message.clicked')).toBe(0)
    expect(await messageRow(server, b)).toMatchObject({ opens: 2, clicks: 0 })
    expect(await count(server, a, 'message.opened')).toBe(1)
  })
})

describe('open and click events after a restart', () => {
  it('a new process on the same database does not emit them again', async () => {
    const first = await mailedEnv('sqlite')
    const env = first.env
    const mail = trackingOf(smtp, 'ada@default.example')
    await first.server.inject({ method: 'GET', url: mail.pixel })
    await first.server.inject({ method: 'GET', url: mail.clicks[0]! })
    await first.server.close()

    // the same data directory opened by a new process (no memory of the first)
    const second = await createApp(env.config, { log: silentLogger, clock: env.clock })
    const server = await buildServer(second)
    try {
      expect((await server.inject({ method: 'GET', url: mail.pixel })).statusCode).toBe(200)
      expect((await server.inject({ method: 'GET', url: mail.clicks[0]! })).statusCode).toBe(302)
      expect(await count(server, first.a, 'message.opened')).toBe(1)
      expect(await count(server, first.a, 'message.clicked')).toBe(1)
      expect(await messageRow(server, first.a)).toMatchObject({ opens: 2, clicks: 2 })
    } finally {
      await server.close()
      await second.close()
      await env.cleanup()
    }
  })
})
