import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture, hmacBase64 } from '../../src/connectors/testing.ts'
import type { StoreflowProcess } from '../helpers/processes.ts'
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.ts'
import { ARTIFACTS, browserRunnable, closeDashboard, type Dashboard, seriousViolations, startDashboard } from '../helpers/browser.ts'

/**
 * The dashboard's store and settings pages against a real `storeflow serve`, seeded through the
 * API, in Debian's Chromium (playwright-core; no browser is downloaded). Without /usr/bin/chromium
 * the file skips, saying so, except under CI where it must run.
 */

declare const document: { body: { textContent: string | null } }
declare const window: { __pwned?: unknown }

const runnable = browserRunnable('dashboard-store.test.ts')

const EMAIL = 'store-owner@example.com'
const PASSWORD = 'correct horse battery staple'
const HOSTILE_NAME = '<img src=x onerror=window.__pwned=1>'
const DAY = 86_400_000

/** Ada with three past orders of mugs (and tags), a customer whose name is markup, the mug's stock. */
function seedEvents(now: number) {
  const ada = { id: 'c-ada', email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', accepts_marketing: true, tags: ['vip', 'wholesale'] }
  const orders = [20, 12, 5].map((daysAgo, i) => {
    const at = new Date(now - daysAgo * DAY).toISOString()
    return {
      id: `evt-order-${i}`,
      type: 'order.paid',
      occurred_at: at,
      data: {
        id: `o-${i}`,
        number: `10${i}`,
        customer: ada,
        currency: 'USD',
        total_price: '24.00',
        financial_status: 'paid',
        line_items: [{ sku: 'SKU-MUG', product_id: 'p-mug', variant_id: 'v-mug', title: 'Mug', quantity: 2, price: '12.00' }],
        created_at: at,
      },
    }
  })
  return {
    history: [{ id: 'evt-ada', type: 'customer.created', occurred_at: new Date(now - 30 * DAY).toISOString(), data: ada }, ...orders],
    live: [
      {
        id: 'evt-hostile',
        type: 'customer.created',
        occurred_at: new Date(now).toISOString(),
        data: { id: 'c-hostile', email: 'hostile@example.com', first_name: HOSTILE_NAME, accepts_marketing: false },
      },
      { id: 'evt-stock', type: 'inventory.updated', occurred_at: new Date(now).toISOString(), data: { sku: 'SKU-MUG', available: 40 } },
    ],
  }
}

describe.skipIf(!runnable)('the store and settings pages in Chromium', () => {
  let dashboard: Dashboard | undefined
  let smtp: SmtpSink
  let serve: { proc: StoreflowProcess; url: string }
  let browser: Browser
  let adminKey: string
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${serve.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    })

  beforeAll(async () => {
    smtp = await startSmtpSink()
    dashboard = await startDashboard({ name: 'dashboard-store', email: EMAIL, password: PASSWORD, secretKey: 'browser-test', env: { SMTP_URL: smtp.url } })
    ;({ serve, browser, adminKey } = dashboard)

    const { history, live } = seedEvents(Date.now())
    const past = await api('/api/v1/events?history=true', { method: 'POST', body: JSON.stringify({ events: history }) })
    expect(past.status, await past.clone().text()).toBe(202)
    const now = await api('/api/v1/events', { method: 'POST', body: JSON.stringify({ events: live }) })
    expect(now.status, await now.clone().text()).toBe(202)
    // a Shopify connector with one delivery (the documented customers/create), for the connectors page
    const secret = 'shpss_dashboard-store-test'
    const connector = await api('/api/v1/connectors', {
      method: 'POST',
      body: JSON.stringify({ platform: 'shopify', secrets: [secret], shop_domain: 'mugs.myshopify.com' }),
    })
    expect(connector.status, await connector.clone().text()).toBe(201)
    const body = fixture('shopify', 'customers-create.json')
    const delivered = await fetch(`${serve.url}/webhooks/shopify/default`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-hmac-sha256': hmacBase64(secret, body),
        'x-shopify-topic': 'customers/create',
        'x-shopify-shop-domain': 'mugs.myshopify.com',
        'x-shopify-event-id': 'evt-shopify-1',
        'x-shopify-webhook-id': 'wh-1',
      },
      body,
    })
    expect(delivered.status, await delivered.clone().text()).toBeLessThan(300)

    // the view is written as the events are taken: Ada's three orders are counted
    const ada = (await (await api('/api/v1/customers/c-ada')).json()) as { orders_count?: number }
    expect(ada.orders_count).toBe(3)
  }, 180_000)

  afterAll(async () => {
    await closeDashboard(dashboard)
    await smtp?.close()
  })

  async function expectAccessible(page: Page, name: string) {
    const serious = await seriousViolations(page)
    expect(serious, `${name}: ${JSON.stringify(serious, null, 2)}`).toEqual([])
    await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true })
  }

  async function signedIn() {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(`${serve.url}/`)
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByLabel('Password').press('Enter')
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor()
    return { page, problems, close: () => context.close() }
  }

  it('customers: the list, a profile with its order count, tags, orders; a name that is markup stays text', async () => {
    const { page, problems, close } = await signedIn()
    try {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Store' }).click()
      await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor()
      const hostileRow = page.getByRole('row').filter({ hasText: 'hostile@example.com' })
      await hostileRow.waitFor()
      // the markup is shown as the characters it is made of, and nothing ran
      expect(await hostileRow.getByRole('link').textContent()).toBe(HOSTILE_NAME)
      expect(await page.locator('main img').count()).toBe(0)
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined()
      await expectAccessible(page, 'customers')

      // the search finds Ada by a part of her surname, any case
      await page.getByLabel('Find a customer').fill('lovel')
      await page.getByRole('button', { name: 'Search' }).click()
      await expect.poll(() => page.getByRole('row').count()).toBe(2)
      await page.getByRole('link', { name: 'Ada Lovelace' }).click()
      await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor()
      expect(await page.getByTestId('orders-count').textContent()).toBe('3')
      expect(await page.getByRole('list', { name: 'Tags' }).getByRole('listitem').allTextContents()).toEqual(['vip', 'wholesale'])
      const orders = page.getByRole('region', { name: 'Orders' }).getByRole('row')
      await expect.poll(() => orders.count()).toBe(4)
      await expectAccessible(page, 'customer-profile')

      // the hostile customer's own profile: its heading is the text too
      await page.goto(`${serve.url}/customers/c-hostile`)
      await page.getByRole('heading', { name: HOSTILE_NAME, level: 1 }).waitFor()
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined()
      expect(problems).toEqual([])
    } finally {
      await close()
    }
  })

  it('orders, inventory with a forecast chart and its reorder point, purchasing and discount codes', async () => {
    const { page, problems, close } = await signedIn()
    try {
      await page.goto(`${serve.url}/orders`)
      await page.getByRole('heading', { name: 'Orders and carts', level: 1 }).waitFor()
      await expect.poll(() => page.getByRole('row').filter({ hasText: 'SKU-MUG' }).count()).toBe(3)
      await expectAccessible(page, 'orders')

      await page.getByRole('navigation', { name: 'Store' }).getByRole('link', { name: 'Inventory' }).click()
      const mugRow = page.getByRole('row').filter({ hasText: 'SKU-MUG' })
      await mugRow.waitFor()
      // stock as the inventory event set it
      expect((await mugRow.getByRole('cell').allTextContents())[1]).toBe('40')
      await expectAccessible(page, 'inventory')
      await mugRow.getByRole('link', { name: 'SKU-MUG' }).click()
      await page.getByRole('heading', { name: 'Forecast for SKU-MUG', level: 1 }).waitFor()
      const chart = page.getByTestId('forecast-chart')
      await chart.locator('svg.recharts-surface').first().waitFor()
      // the reorder point is drawn as a reference line, labelled with its value
      const reorderPoint = await page.locator('dt:text-is("Reorder point") + dd').textContent()
      await expect.poll(() => chart.locator('.recharts-reference-line').count()).toBe(1)
      await expect.poll(() => chart.locator('svg').first().textContent()).toContain(`reorder point ${reorderPoint}`)
      // the expected stock and the demand as lines, over the 28 days ahead the table lists
      expect(await chart.locator('.recharts-line').count()).toBe(2)
      expect(await page.locator('details tbody tr').count()).toBe(28)
      await expectAccessible(page, 'inventory-forecast')

      // a manual reorder point moves the line; one that is not a number is refused, said at the field
      const reorderInput = page.getByRole('textbox', { name: /^Reorder point/ })
      await reorderInput.fill('30')
      await page.getByRole('button', { name: 'Set reorder point' }).click()
      await expect.poll(() => chart.locator('svg').first().textContent()).toContain('reorder point 30')
      await reorderInput.fill('lots')
      await page.getByRole('button', { name: 'Set reorder point' }).click()
      await page.locator('#reorder-point-error').waitFor()
      expect(await reorderInput.getAttribute('aria-invalid')).toBe('true')
      expect(((await (await api('/api/v1/inventory/forecast?sku=SKU-MUG')).json()) as { reorder_point: number }).reorder_point).toBe(30)

      for (const [link, heading, shot] of [
        ['Purchase orders', 'Purchase orders', 'purchase-orders'],
        ['Suppliers', 'Suppliers', 'suppliers'],
        ['Discount codes', 'Discount codes', 'discount-codes'],
      ] as const) {
        await page.getByRole('navigation', { name: 'Store' }).getByRole('link', { name: link }).click()
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
        await page.getByText(/^No /).first().waitFor()
        await expectAccessible(page, shot)
      }
      expect(problems).toEqual([])
    } finally {
      await close()
    }
  })

  it('settings: frequency_cap saved; a bad value answered next to its field; an API key created, shown once, revoked', async () => {
    const { page, problems, close } = await signedIn()
    try {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Settings' }).click()
      await page.getByRole('heading', { name: 'Store settings', level: 1 }).waitFor()
      const cap = page.getByLabel('Frequency cap')
      await cap.fill('8h')
      await page.getByRole('button', { name: /Save guardrails/ }).click()
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor()
      const saved = (await (await api('/api/v1/settings')).json()) as { frequency_cap: string }
      expect(saved.frequency_cap).toBe('8h')
      await expectAccessible(page, 'settings')

      await cap.fill('soon')
      await page.getByRole('button', { name: /Save guardrails/ }).click()
      const fieldError = page.locator('#setting-frequency_cap-error')
      await fieldError.waitFor()
      expect(await fieldError.textContent()).toMatch(/duration/)
      expect(await cap.getAttribute('aria-invalid')).toBe('true')
      expect(await cap.getAttribute('aria-describedby')).toContain('setting-frequency_cap-error')
      // nothing was saved
      expect(((await (await api('/api/v1/settings')).json()) as { frequency_cap: string }).frequency_cap).toBe('8h')
      await expectAccessible(page, 'settings-error')

      // the SMTP test mail reaches the sink
      await page.getByLabel('Send a test mail to').fill('ops@example.com')
      await page.getByRole('button', { name: 'Send test mail' }).click()
      await page.getByRole('status').filter({ hasText: 'Sent to ops@example.com' }).waitFor()
      await smtp.waitForMessages(1)

      // API keys: one made, shown once, working, then revoked
      await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API keys' }).click()
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor()
      await page.getByLabel('Scope').selectOption('read')
      await page.getByRole('button', { name: 'Create key' }).click()
      const shown = page.getByLabel('New API key')
      await shown.waitFor()
      const newKey = await shown.inputValue()
      expect(newKey.length).toBeGreaterThan(20)
      const withNewKey = () => fetch(`${serve.url}/api/v1/runs`, { headers: { authorization: `Bearer ${newKey}` } }).then((r) => r.status)
      expect(await withNewKey()).toBe(200)
      await expectAccessible(page, 'keys')
      // on the next visit the key itself is nowhere on the page
      await page.reload()
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor()
      await expect.poll(() => page.getByRole('row').count()).toBe(3)
      expect(await page.evaluate(() => document.body.textContent)).not.toContain(newKey)
      const liveReadRow = page.getByRole('row').filter({ hasText: 'read' }).filter({ hasText: 'live' })
      await liveReadRow.getByRole('button', { name: /Revoke/ }).click()
      await expect.poll(() => page.getByRole('row').filter({ hasText: 'revoked' }).count()).toBe(1)
      // revocation takes effect within the server's 5-second key cache
      await expect.poll(withNewKey, { timeout: 15_000, interval: 1_000 }).toBe(401)

      await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Connectors' }).click()
      const webhookUrl = page.getByLabel('Webhook URL to paste into the shop')
      await webhookUrl.waitFor()
      expect(await webhookUrl.inputValue()).toMatch(/^https?:\/\/[^/]+\/webhooks\/shopify\/default$/)
      await expect.poll(() => page.getByText(/1 deliveries, 0 failed/).count()).toBe(1)
      const deliveryRow = page.getByRole('row').filter({ hasText: 'customers/create' })
      await deliveryRow.getByRole('button', { name: /Replay/ }).click()
      await page.getByRole('status').filter({ hasText: 'Replayed' }).waitFor()

      for (const [link, heading, shot] of [
        ['Connectors', 'Connectors', 'connectors'],
        ['Users', 'Users', 'users'],
      ] as const) {
        await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: link }).click()
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
        await expectAccessible(page, shot)
      }
      await page.getByRole('cell', { name: EMAIL }).waitFor()
      // a second user: a short password is refused naming it, then one long enough is added
      await page.getByLabel('Email').fill('clerk@example.com')
      await page.getByLabel('Password').fill('short')
      await page.getByRole('button', { name: 'Add user' }).click()
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^password: /)
      expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true')
      await page.getByLabel('Password').fill('a password long enough for a clerk')
      await page.getByRole('button', { name: 'Add user' }).click()
      await page.getByRole('cell', { name: 'clerk@example.com', exact: true }).waitFor()
      // and the clerk signs in
      const signIn = await fetch(`${serve.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: serve.url },
        body: JSON.stringify({ email: 'clerk@example.com', password: 'a password long enough for a clerk' }),
      })
      expect(signIn.status).toBe(200)
      const clerkCookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0]!
      // the signed-in user has no delete button of their own; the clerk is deleted after a confirm,
      // which signs the clerk out at once
      expect(await page.getByRole('row').filter({ hasText: EMAIL }).getByRole('button').count()).toBe(0)
      page.once('dialog', (dialog) => void dialog.accept())
      await page.getByRole('button', { name: 'Delete clerk@example.com' }).click()
      await expect.poll(() => page.getByRole('cell', { name: 'clerk@example.com', exact: true }).count()).toBe(0)
      expect((await fetch(`${serve.url}/api/v1/auth/session`, { headers: { cookie: clerkCookie } })).status).toBe(401)
      expect(problems).toEqual([])
    } finally {
      await close()
    }
  })
})
