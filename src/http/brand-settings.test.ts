import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS, createTestEnv, type TestEnv } from '../../test/helpers/dialects.ts'
import { createKey } from '../store/stores.repo.ts'
import { buildServer } from './server.ts'

describe.each(DIALECTS)('brand settings over the API on %s', (dialect) => {
  let env: TestEnv
  let server: FastifyInstance
  let admin: string

  beforeEach(async () => {
    env = await createTestEnv(dialect, { env: {} })
    server = await buildServer(env.app)
    admin = (await createKey(env.app.handle.db, 'default', 'admin', env.clock.now())).key
  })
  afterEach(async () => {
    await server.close()
    await env.cleanup()
  })

  const put = (payload: unknown) =>
    server.inject({ method: 'PUT', url: '/api/v1/settings', headers: { authorization: `Bearer ${admin}` }, payload: payload as object })
  const get = async () => (await server.inject({ method: 'GET', url: '/api/v1/settings', headers: { authorization: `Bearer ${admin}` } })).json()

  it('PUT brand changes the keys it names and keeps the others; store_name renames the store', async () => {
    const first = await put({
      store_name: "Ada's Linen & Co",
      shop_url: 'https://linen.example',
      brand: { logo_url: 'https://cdn.example/logo.png', primary_color: '#0f766e' },
    })
    expect(first.statusCode).toBe(200)
    await put({ brand: { footer_text: '1 Harbour St\nBristol' } })
    expect(await get()).toMatchObject({
      store_name: "Ada's Linen & Co",
      shop_url: 'https://linen.example',
      frequency_cap: '16h',
      brand: {
        logo_url: 'https://cdn.example/logo.png',
        logo_width: 160,
        logo_height: 48,
        primary_color: '#0f766e',
        background_color: '#f4f4f5',
        footer_text: '1 Harbour St\nBristol',
      },
    })
    // the name is the store's: listed with the stores, and what runs see as store.name
    expect((await env.app.services.stores.list()).find((s) => s.id === 'default')?.name).toBe("Ada's Linen & Co")
    // null clears the logo
    expect((await put({ brand: { logo_url: null } })).json().brand.logo_url).toBeNull()
  })

  it('saving a message template answers the mail lint findings as warnings, and saves it all the same', async () => {
    await put({ brand: { logo_url: 'https://cdn.example/logo.png' } })
    const save = (payload: object) =>
      server.inject({ method: 'PUT', url: '/api/v1/message-templates/promo', headers: { authorization: `Bearer ${admin}` }, payload })
    const shouting = await save({
      subject: 'HUGE SALE TODAY!!!',
      html: '<a href="https://evil.example/x">https://linen.example/sale</a><img src="https://cdn.example/sale.png">',
    })
    expect(shouting.statusCode).toBe(200)
    expect(shouting.json().warnings.map((w: { code: string }) => w.code)).toEqual([
      'subject_all_caps',
      'subject_exclamations',
      'image_without_alt',
      'image_only',
      'link_text_other_url',
    ])
    const fine = await save({
      subject: 'Your order {{ order.number }}',
      html: '<p>Hi {{ customer.first_name }}, thank you for your order {{ order.number }} of {{ order.total_price | money }}. We will write again when it ships, with a link to follow the parcel.</p>',
    })
    expect(fine.json()).toMatchObject({ name: 'promo', warnings: [] })
  })

  it.each([
    ['brand.primary_color', 'colour like "#1a73e8"', { brand: { primary_color: 'red' } }],
    ['brand.primary_color', '#rrggbb', { brand: { primary_color: '#0f766e;background:url(x)' } }],
    ['brand.background_color', '#rrggbb', { brand: { background_color: '#fff' } }],
    ['brand.logo_url', 'http:// or https://', { brand: { logo_url: 'javascript:alert(1)' } }],
    ['brand.logo_url', 'http:// or https://', { brand: { logo_url: 'https://cdn.example/a"onerror="x.png' } }],
    ['brand.logo_url', '2048', { brand: { logo_url: `https://cdn.example/${'a'.repeat(2100)}` } }],
    ['brand.logo_width', '', { brand: { logo_width: 5000 } }],
    ['brand.logo_height', '', { brand: { logo_height: 1.5 } }],
    ['brand.footer_text', '500', { brand: { footer_text: 'x'.repeat(501) } }],
    ['brand.footer_text', 'control characters', { brand: { footer_text: 'a\u0007b' } }],
    ['brand', 'logo', { brand: { logo: 'https://cdn.example/l.png' } }],
    ['brand', '', { brand: 'blue' }],
    ['store_name', 'not empty', { store_name: '' }],
    ['store_name', 'one line', { store_name: 'Two\nlines' }],
    ['store_name', '100', { store_name: 'x'.repeat(101) }],
    ['shop_url', 'http:// or https://', { shop_url: 'ftp://shop.example' }],
    ['review_url', 'http:// or https://', { review_url: 'reviews' }],
    ['mail_from', 'one email address', { mail_from: 'a@example.com, b@example.com' }],
    ['mail_reply_to', 'one email address', { mail_reply_to: 'help@example.com\nBcc: x@example.com' }],
  ])('refuses a bad %s with 400 naming it (%s)', async (field, words, payload) => {
    const res = await put(payload)
    expect(res.statusCode).toBe(400)
    expect(res.json().error.details.field).toBe(field)
    expect(res.json().error.message).toContain(field)
    expect(res.json().error.message).toContain(words)
    expect((await get()).brand.primary_color).toBeNull()
  })
})
