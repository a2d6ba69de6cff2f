import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, browserRunnable, closeDashboard, type Dashboard, seriousViolations, startDashboard } from '../helpers/browser.ts'
import type { StoreflowProcess } from '../helpers/processes.ts'

/**
 * The Insight pages against a real `storeflow serve` (no SMTP: mail stays in the outbox), seeded
 * through the API, in Debian's Chromium. The figures on screen are compared with what the API
 * answers for the same range, and the backtest's run count with a backtest asked of the API.
 */

declare const window: { __pwned?: unknown }

const runnable = browserRunnable('dashboard-insight.test.ts')
const EMAIL = 'insight-owner@example.com'
const PASSWORD = 'correct horse battery staple'
const HOSTILE_NAME = '<img src=x onerror=window.__pwned=1> thanks'
const ORDERS = 4

const WORKFLOW = `
id: thanks
name: '${HOSTILE_NAME}'
trigger: { event: order.paid }
reentry: { per_customer: always, concurrent: true }
holdout: 10%
steps:
  - id: thank_you
    action: send_email
    with:
      category: transactional
      subject: 'Thanks for order {{ trigger.data.number }}'
      html: '<p>Thank you</p>'
active: true
`

const SPLIT_WORKFLOW = `
id: subject-test
name: Subject test
trigger: { event: order.paid }
reentry: { per_customer: always, concurrent: true }
steps:
  - id: subject_test
    split:
      variants:
        - id: a
          weight: 50
          steps:
            - action: send_email
              with: { category: transactional, subject: 'Thanks', html: '<p>Thanks</p>' }
        - id: b
          weight: 50
          steps:
            - action: send_email
              with: { category: transactional, subject: 'Thank you!', html: '<p>Thank you</p>' }
active: true
`

interface Overview {
  from: string
  to: string
  runs: { started: number }
  messages: { sent: number }
  orders_attributed: number
  revenue_attributed: number
  workflows: Array<{ id: string; name: string; runs: number; sent: number; orders_attributed: number; revenue_attributed: number }>
}

function orderEvents(now: number) {
  return Array.from({ length: ORDERS }, (_, i) => {
    const at = new Date(now - (ORDERS - i) * 60_000).toISOString()
    const customer = { id: `c-${i}`, email: `buyer${i}@example.com`, first_name: `Buyer ${i}`, accepts_marketing: true }
    return {
      id: `evt-order-${i}`,
      type: 'order.paid',
      occurred_at: at,
      data: {
        id: `o-${i}`,
        number: `20${i}`,
        customer,
        currency: 'USD',
        total_price: `${10 + i}.00`,
        financial_status: 'paid',
        line_items: [{ sku: 'SKU-MUG', product_id: 'p-mug', variant_id: 'v-mug', title: 'Mug', quantity: 1, price: `${10 + i}.00` }],
        created_at: at,
      },
    }
  })
}

describe.skipIf(!runnable)('the Insight pages in Chromium', () => {
  let dashboard: Dashboard | undefined
  let serve: { proc: StoreflowProcess; url: string }
  let browser: Browser
  let adminKey: string
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${serve.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    })

  beforeAll(async () => {
    dashboard = await startDashboard({ name: 'dashboard-insight', email: EMAIL, password: PASSWORD, secretKey: 'browser-test', env: {} })
    ;({ serve, browser, adminKey } = dashboard)

    const saved = await api('/api/v1/workflows', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: WORKFLOW })
    expect(saved.status, await saved.clone().text()).toBe(201)
    const split = await api('/api/v1/workflows', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: SPLIT_WORKFLOW })
    expect(split.status, await split.clone().text()).toBe(201)
    const events = await api('/api/v1/events', { method: 'POST', body: JSON.stringify({ events: orderEvents(Date.now()) }) })
    expect(events.status, await events.clone().text()).toBe(202)
    // every order started a run of the workflow (held-out ones included)
    const deadline = Date.now() + 60_000
    let started = 0
    while (Date.now() < deadline) {
      started = ((await (await api('/api/v1/analytics/overview')).json()) as Overview).runs.started
      if (started >= 2 * ORDERS) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(started).toBe(2 * ORDERS)
  }, 180_000)

  afterAll(async () => {
    await closeDashboard(dashboard)
  })

  async function expectAccessible(page: Page, name: string) {
    const serious = await seriousViolations(page)
    expect(serious, `${name}: ${JSON.stringify(serious, null, 2)}`).toEqual([])
    await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true })
  }

  it('the overview and a workflow page show the API figures; the holdout says not enough data; a backtest counts its runs', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    try {
      await page.goto(`${serve.url}/`)
      await page.getByLabel('Email').fill(EMAIL)
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByLabel('Password').press('Enter')
      await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor()

      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Insight' }).click()
      await page.getByRole('heading', { name: 'Insight', level: 1 }).waitFor()
      const from = await page.getByLabel('From', { exact: true }).inputValue()
      const to = await page.getByLabel('To', { exact: true }).inputValue()
      const overview = (await (await api(`/api/v1/analytics/overview?from=${from}&to=${to}`)).json()) as Overview
      expect(overview.runs.started).toBe(2 * ORDERS)
      const money = (n: number) => n.toLocaleString('en-US', { style: 'currency', currency: 'USD' })
      await expect.poll(() => page.getByTestId('total-runs').textContent()).toBe(String(overview.runs.started))
      expect(await page.getByTestId('total-sent').textContent()).toBe(String(overview.messages.sent))
      expect(await page.getByTestId('total-orders').textContent()).toBe(String(overview.orders_attributed))
      expect(await page.getByTestId('total-revenue').textContent()).toBe(money(overview.revenue_attributed))

      const listed = overview.workflows.find((w) => w.id === 'thanks')
      expect(listed).toBeDefined()
      const row = page.getByRole('row').filter({ hasText: 'thanks' }).last()
      const cells = await row.getByRole('cell').allTextContents()
      expect(cells.slice(1)).toEqual([String(listed!.runs), String(listed!.sent), String(listed!.orders_attributed), money(listed!.revenue_attributed)])
      // the workflow's name is markup: shown as its characters, nothing ran
      expect(await row.getByRole('link').textContent()).toBe(HOSTILE_NAME)
      expect(await page.locator('main img').count()).toBe(0)
      await expectAccessible(page, 'insight')

      // the workflows list shows the same 30 days' figures beside each workflow, and the holdout's verdict
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Workflows' }).click()
      await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor()
      const listRow = page.getByRole('row').filter({ hasText: HOSTILE_NAME }).first()
      await expect.poll(async () => (await listRow.getByRole('cell').allTextContents())[4]).toBe(String(listed!.runs))
      const listCells = await listRow.getByRole('cell').allTextContents()
      expect(listCells.slice(5, 7)).toEqual([String(listed!.sent), money(listed!.revenue_attributed)])
      await expect.poll(async () => (await listRow.getByRole('cell').allTextContents())[7]).toBe('not enough data')

      // the events page lists what the store sent, and a new event appears without a reload
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Events' }).click()
      await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor()
      const eventsTable = page.getByRole('table', { name: 'Events' })
      for (let i = 0; i < ORDERS; i++)
        await expect
          .poll(() =>
            eventsTable
              .getByRole('row')
              .filter({ hasText: `evt-order-${i}` })
              .count(),
          )
          .toBe(1)
      const live = await api('/api/v1/events', {
        method: 'POST',
        body: JSON.stringify({ id: 'evt-live-1', type: 'customer.updated', data: { id: 'c-live', email: 'live@example.com', first_name: HOSTILE_NAME } }),
      })
      expect(live.status, await live.clone().text()).toBe(202)
      await expect.poll(() => eventsTable.getByRole('row').filter({ hasText: 'evt-live-1' }).count(), { timeout: 15_000 }).toBe(1)
      await expectAccessible(page, 'events')
      expect(await page.locator('main img').count()).toBe(0)
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Insight' }).click()
      await page.getByRole('heading', { name: 'Insight', level: 1 }).waitFor()

      // a range of more than 366 days: the server's 400 names from, and the page shows it next to that field
      await page.getByLabel('From', { exact: true }).fill(`${Number(to.slice(0, 4)) - 2}${to.slice(4)}`)
      await page.getByRole('button', { name: 'Show' }).click()
      await expect.poll(() => page.locator('#range-from-error').textContent()).toMatch(/at most 366/)
      await page.getByLabel('From', { exact: true }).fill(from)
      await page.getByRole('button', { name: 'Show' }).click()
      await expect.poll(() => page.locator('#range-from-error').count()).toBe(0)

      await page.getByRole('link', { name: HOSTILE_NAME }).click()
      await page.getByRole('heading', { name: HOSTILE_NAME, level: 1 }).waitFor()
      const wf = (await (await api(`/api/v1/analytics/workflows/thanks?from=${from}&to=${to}`)).json()) as {
        runs: { started: number }
        messages: { sent: number }
        holdout: { enough_data: boolean; sample_needed: number | null } | null
        steps: Array<{ id: string; sent: number }>
      }
      await expect.poll(() => page.getByTestId('wf-runs').textContent()).toBe(String(wf.runs.started))
      expect(await page.getByTestId('wf-sent').textContent()).toBe(String(wf.messages.sent))
      expect(wf.holdout?.enough_data).toBe(false)
      expect(await page.getByTestId('holdout-verdict').textContent()).toMatch(/not enough data yet/i)
      if (wf.holdout?.sample_needed != null)
        expect(await page.getByTestId('holdout-verdict').textContent()).toContain(wf.holdout.sample_needed.toLocaleString('en-US'))
      for (const step of wf.steps) {
        const stepRow = page.getByRole('table', { name: 'Steps' }).getByRole('row').filter({ hasText: step.id })
        expect((await stepRow.getByRole('cell').allTextContents())[1]).toBe(String(step.sent))
      }
      expect(await page.getByText('This workflow has no split.').count()).toBe(1)

      // the backtest: its run count is the one the API answers for the same period
      // the answer is held back until the progress indicator has been seen
      let release = () => {}
      const held = new Promise<void>((r) => {
        release = r
      })
      await page.route('**/api/v1/workflows/thanks/backtest', async (route) => {
        await held
        await route.continue()
      })
      await page.getByRole('button', { name: 'Run' }).click()
      await page.getByRole('progressbar', { name: 'Backtest running' }).waitFor()
      expect(await page.getByRole('button', { name: 'Run' }).isDisabled()).toBe(true)
      release()
      await page.getByTestId('backtest-runs').waitFor({ timeout: 60_000 })
      const report = (await (await api('/api/v1/workflows/thanks/backtest', { method: 'POST', body: JSON.stringify({ since: '90d' }) })).json()) as {
        runs: number
      }
      expect(report.runs).toBeGreaterThan(0)
      expect(await page.getByTestId('backtest-runs').textContent()).toBe(String(report.runs))
      await expectAccessible(page, 'insight-workflow')

      // a split with a few customers: each variant's customers as the API counts them, and no winner yet
      await page.goto(`${serve.url}/insight/workflows/subject-test?from=${from}&to=${to}`)
      await page.getByRole('heading', { name: 'Subject test', level: 1 }).waitFor()
      const ab = (await (await api(`/api/v1/analytics/workflows/subject-test?from=${from}&to=${to}`)).json()) as {
        variants: Array<{ id: string; customers: number }> | null
        split: { winner: string | null; sample_needed_per_variant: number | null } | null
      }
      expect(ab.split?.winner).toBeNull()
      await expect.poll(() => page.getByTestId('split-verdict').textContent()).toMatch(/no winner yet/i)
      if (ab.split?.sample_needed_per_variant != null)
        expect(await page.getByTestId('split-verdict').textContent()).toContain(ab.split.sample_needed_per_variant.toLocaleString('en-US'))
      const variantRows = page.getByRole('table', { name: 'A/B split' }).getByRole('row')
      expect(await variantRows.count()).toBe((ab.variants?.length ?? 0) + 1)
      for (const v of ab.variants ?? []) {
        const cells = await variantRows
          .filter({ hasText: new RegExp(`^${v.id}`) })
          .getByRole('cell')
          .allTextContents()
        expect(cells[0]).toBe(String(v.customers))
      }
      await expectAccessible(page, 'insight-split')
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined()
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  }, 180_000)
})
