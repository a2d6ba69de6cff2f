import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DIALECTS } from '../../helpers/dialects.ts'
import { startScenario, type Mail, type Scenario } from '../harness.ts'

// the store's own mail that prospects and customers receive: a note with a link to the catalogue
const NEWSLETTER = {
  id: 'spring-note',
  name: 'Spring note',
  trigger: { event: 'raw.spring_note' },
  reentry: { per_customer: 'always', concurrent: true },
  steps: [
    {
      action: 'send_email',
      with: {
        category: 'transactional',
        subject: 'Our spring catalogue',
        html: '<p>Hello {{ customer.first_name }}, the <a href="https://shop.example.com/spring">spring catalogue</a> is out.</p>',
      },
    },
  ],
}

/** the tracking paths in a mail: its open pixel and its click links */
function tracking(mail: Mail) {
  const paths = [...mail.html.matchAll(/(?:src|href)="https?:\/\/[^/"]+(\/t\/[oc]\/[^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'))
  return { pixel: paths.find((p) => p.startsWith('/t/o/'))!, click: paths.find((p) => p.startsWith('/t/c/'))! }
}

describe.each(DIALECTS)('template prospect-engagement-alert on %s', (dialect) => {
  let s: Scenario
  beforeEach(async () => {
    s = await startScenario(dialect)
    process.env.STOREFLOW_TEAM_WEBHOOK_URL = `${s.hook.url}/sales`
    await s.api('/api/v1/workflows', { method: 'POST', payload: NEWSLETTER })
    await s.api('/api/v1/workflows/spring-note/activate', { method: 'POST' })
    await s.install('prospect-engagement-alert')
    await s.send('customer.created', {
      id: 'c-ada',
      email: 'ada@lovelace.example',
      first_name: 'Ada',
      last_name: 'King',
      tags: ['prospect'],
      accepts_marketing: true,
    })
    await s.send('customer.created', { id: 'c-ola', email: 'ola@example.com', first_name: 'Ola', last_name: 'Berg', tags: ['vip'], accepts_marketing: true })
    await s.send('customer.created', { id: 'c-bob', email: 'bob@example.com', first_name: 'Bob', last_name: 'Stone', accepts_marketing: true })
  })
  afterEach(async () => {
    delete process.env.STOREFLOW_TEAM_WEBHOOK_URL
    await s.close()
  })

  const mailTo = async (customerId: string) => {
    await s.send('raw.spring_note', { customer: { id: customerId } })
    const [mail, ...more] = s.newMail()
    expect(more).toEqual([])
    return mail!
  }
  const fetch = async (path: string) => {
    const res = await s.server.inject({ method: 'GET', url: path })
    expect(res.statusCode).toBeLessThan(400)
    await s.advance('1m', { step: null })
    return res
  }
  const alerts = () => s.hook.requests.filter((r) => r.path === '/sales').map((r) => JSON.parse(r.body).text as string)

  it('a prospect clicking a link in our mail alerts the team at once, naming the link; an open alone is told after 10 minutes; one alert a day', async () => {
    const ada = await mailTo('c-ada')
    // images blocked: no pixel, only the click
    const click = await fetch(tracking(ada).click)
    expect(click.headers.location).toBe('https://shop.example.com/spring')
    expect(alerts()).toEqual([
      'Ada King (ada@lovelace.example) just clicked https://shop.example.com/spring in one of our emails — a good moment to reach out.',
    ])
    // the pixel loads later, and she clicks again: still one alert
    await fetch(tracking(ada).pixel)
    await fetch(tracking(ada).click)
    await s.advance('1h', { step: '10m' })
    expect(alerts()).toHaveLength(1)

    // Ola, a VIP, only opens: the team hears when no click followed within 10 minutes
    const ola = await mailTo('c-ola')
    await fetch(tracking(ola).pixel)
    await s.advance('8m', { step: null })
    expect(alerts()).toHaveLength(1)
    await s.advance('2m', { step: null })
    expect(alerts().slice(1)).toEqual(['Ola Berg (ola@example.com) just opened one of our emails — a good moment to reach out.'])

    // Ada opens another mail the same day: no second alert; the next day, one again
    await s.advance('2h', { step: null })
    await fetch(tracking(await mailTo('c-ada')).pixel)
    await s.advance('1h', { step: '10m' })
    expect(alerts()).toHaveLength(2)
    await s.advance('1d', { step: '6h' })
    await fetch(tracking(await mailTo('c-ada')).pixel)
    await s.advance('1h', { step: '10m' })
    expect(alerts().slice(2)).toEqual(['Ada King (ada@lovelace.example) just opened one of our emails — a good moment to reach out.'])
  })

  it('an ordinary customer opening and clicking alerts nobody', async () => {
    const bob = await mailTo('c-bob')
    await fetch(tracking(bob).pixel)
    await fetch(tracking(bob).click)
    await s.advance('1d', { step: '1h' })
    expect(s.hook.requests).toEqual([])
  })
})
