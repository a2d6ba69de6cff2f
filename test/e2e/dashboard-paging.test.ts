import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserRunnable, closeDashboard, type Dashboard, startDashboard } from '../helpers/browser.ts'

/**
 * Long lists in the dashboard: the API answers 100 rows a page with a cursor, and the page shows
 * "Show more" until every row is on screen, with no row twice and none skipped, while the list
 * keeps refreshing live. Driven in Debian's Chromium against a real `storeflow serve`.
 */

const runnable = browserRunnable('dashboard-paging.test.ts')
const EMAIL = 'pager@example.com'
const PASSWORD = 'correct horse battery staple'
/** more than two pages of 100 */
const CUSTOMERS = 230
const MINUTE = 60_000

describe.skipIf(!runnable)('paged lists in Chromium', () => {
  let dashboard: Dashboard | undefined
  let browser: Browser
  let base: string
  let adminKey: string
  const started = Date.now()
  const post = (events: unknown[]) =>
    fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    })
  const customerCreated = (i: number) => ({
    id: `evt-c${String(i).padStart(3, '0')}`,
    type: 'customer.created',
    // one a minute, oldest first, so "newest first" has one answer
    occurred_at: new Date(started - (CUSTOMERS + 10 - i) * MINUTE).toISOString(),
    data: { id: `c-${i}`, email: `buyer${i}@example.com`, first_name: `Buyer ${i}` },
  })

  beforeAll(async () => {
    dashboard = await startDashboard({ name: 'dashboard-paging', email: EMAIL, password: PASSWORD })
    ;({ browser, adminKey } = dashboard)
    base = dashboard.serve.url
    const answer = await post(Array.from({ length: CUSTOMERS }, (_, i) => customerCreated(i)))
    expect(answer.status, await answer.clone().text()).toBe(202)
  }, 180_000)

  afterAll(async () => {
    await closeDashboard(dashboard)
  })

  async function signedIn(): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(`${base}/`)
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByLabel('Password').press('Enter')
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor()
    return { page, problems, close: () => context.close() }
  }

  /** the Id column of the events table, top to bottom */
  const eventIds = (page: Page) => page.getByRole('table', { name: 'Events' }).locator('tbody tr td:nth-child(2)').allTextContents()

  it('events: 100 at first, then every older page on "Show more", each event once, and new events still arrive on top', async () => {
    const { page, problems, close } = await signedIn()
    try {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Events' }).click()
      await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor()
      await page.getByText('100 events shown').waitFor()
      expect(await eventIds(page)).toHaveLength(100)
      expect((await eventIds(page))[0]).toBe(`evt-c${CUSTOMERS - 1}`)

      const more = page.getByRole('button', { name: 'Show more events' })
      await more.click()
      await page.getByText('200 events shown').waitFor()
      await more.click()
      await page.getByText(`${CUSTOMERS} events shown (all)`).waitFor()
      expect(await more.count()).toBe(0)

      const ids = await eventIds(page)
      const expected = Array.from({ length: CUSTOMERS }, (_, i) => customerCreated(CUSTOMERS - 1 - i).id)
      expect(ids).toEqual(expected)

      // five new events: the live refresh asks for every loaded page again, so they appear on
      // top and the rest move down, none lost at a page's edge and none shown twice
      const fresh = Array.from({ length: 5 }, (_, i) => ({
        id: `evt-late-${i}`,
        type: 'customer.updated',
        occurred_at: new Date(started + i * 1000).toISOString(),
        data: { id: `c-${i}`, first_name: `Renamed ${i}` },
      }))
      const answer = await post(fresh)
      expect(answer.status, await answer.clone().text()).toBe(202)
      await page.getByText(`${CUSTOMERS + 5} events shown (all)`).waitFor({ timeout: 30_000 })
      const after = await eventIds(page)
      expect(after.slice(0, 5)).toEqual(fresh.map((e) => e.id).reverse())
      expect(after.slice(5)).toEqual(expected)
      expect(problems).toEqual([])
    } finally {
      await close()
    }
  }, 120_000)

  it('customers: the store page pages the same way', async () => {
    const { page, problems, close } = await signedIn()
    try {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Store' }).click()
      await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor()
      await page.getByText('100 customers shown').waitFor()
      const more = page.getByRole('button', { name: 'Show more customers' })
      await more.click()
      await page.getByText('200 customers shown').waitFor()
      await more.click()
      await page.getByText(`${CUSTOMERS} customers shown (all)`).waitFor()
      for (const i of [0, 99, 100, 229]) await expect(page.getByRole('cell', { name: `buyer${i}@example.com`, exact: true }).count()).resolves.toBe(1)
      expect(problems).toEqual([])
    } finally {
      await close()
    }
  }, 120_000)
})
