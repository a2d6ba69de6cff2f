import { describe, expect, it } from 'vitest'
import type { ReceivedRequest } from '../helpers/http-receiver.ts'
import type { CopyFate } from '../helpers/smtp-sink.ts'
import type { ExpectedEvent } from './shop.ts'
import { checkCalls, checkEmails, checkEvents, checkRuns, type EventItem, type RunItem, type Step } from './verify.ts'

/** The chaos suite's checks see a loss and a duplicate when there is one: a check that cannot fail proves nothing. */

const order = (id: string): ExpectedEvent => ({ type: 'order.created', dataId: id })
const customer = (id: string): ExpectedEvent => ({ type: 'customer.created', dataId: id })
const call = (ref: string, key: string, status = 200): ReceivedRequest => ({
  method: 'POST',
  path: '/orders',
  key,
  body: JSON.stringify({ ref }),
  held: false,
  status,
})

describe('checkEvents', () => {
  it('counts an accepted event missing from the store as lost, and one stored twice as duplicated', () => {
    const problems: string[] = []
    const stored: EventItem[] = [
      { id: 'e1', type: 'order.created', data: { id: '1' } },
      { id: 'e3', type: 'order.created', data: { id: '3' } },
      { id: 'e3b', type: 'order.created', data: { id: '3' } },
    ]
    expect(checkEvents([order('1'), order('2'), order('3')], stored, problems)).toMatchObject({ lost: 1, duplicated: 1 })
    expect(problems).toEqual(['event lost: order.created 2 (1 accepted, 0 stored)', 'event stored twice: order.created 3 (1 accepted, 2 stored)'])
  })

  it('repeats of one resource are counted, not merged', () => {
    const problems: string[] = []
    const stored: EventItem[] = [
      { id: 'a', type: 'customer.created', data: { id: '32' } },
      { id: 'b', type: 'customer.created', data: { id: '32' } },
    ]
    expect(checkEvents([customer('32'), customer('32')], stored, problems)).toMatchObject({ lost: 0, duplicated: 0 })
    expect(problems).toEqual([])
  })
})

describe('checkRuns', () => {
  const now = Date.parse('2026-12-07T10:00:00Z')
  const stored: EventItem[] = [
    { id: 'e1', type: 'order.created', data: { id: '1' } },
    { id: 'e2', type: 'checkout.started', data: { id: 'c' } },
    { id: 'e3', type: 'order.created', data: { id: '3' } },
  ]
  const wait = (wake: string): Step[] => [{ id: 'w', type: 'wait', status: 'waiting', attempts: 0, wake_at: wake }]

  it('a run waiting on its month is correctly waiting; one that waits to be retried is stuck; a missing run and a second one are counted', () => {
    const problems: string[] = []
    const runs: RunItem[] = [
      { id: 'r1', workflow_id: 'chaos-confirm', status: 'running', trigger_event_id: 'e1' },
      { id: 'r1b', workflow_id: 'chaos-confirm', status: 'completed', trigger_event_id: 'e1' },
      { id: 'r2', workflow_id: 'chaos-recover', status: 'waiting', trigger_event_id: 'e2' },
    ]
    const steps = new Map([
      ['r1', [{ id: 'confirm', type: 'send_email', status: 'retrying', attempts: 2 }]],
      ['r2', wait('2027-01-06T10:00:00Z')],
    ])
    expect(checkRuns(stored, runs, steps, now, problems)).toMatchObject({ missing: 1, duplicated: 1, correctlyWaiting: 1, stuck: 1, failed: 0 })
  })

  it('a wait due within the day is not "correctly waiting"', () => {
    const problems: string[] = []
    const runs: RunItem[] = [{ id: 'r2', workflow_id: 'chaos-recover', status: 'waiting', trigger_event_id: 'e2' }]
    expect(checkRuns(stored.slice(1, 2), runs, new Map([['r2', wait('2026-12-07T10:05:00Z')]]), now, problems)).toMatchObject({ correctlyWaiting: 0, stuck: 1 })
  })
})

describe('checkEmails', () => {
  const expected = [order('1'), order('2'), customer('9')]

  const answered = (n: number): CopyFate[] => Array.from({ length: n }, () => 'answered')

  it('each expected subject once: a lost one, a second message for one email and an unflagged second copy are counted', () => {
    const problems: string[] = []
    const mail = { messageIds: ['<a>', '<a>', '<b>', '<c>'], subjects: ['confirm 1', 'confirm 1', 'welcome 9', 'welcome 9'], fates: answered(4) }
    expect(checkEmails(expected, mail, new Map(), problems)).toMatchObject({ expected: 3, received: 4, distinct: 3, lost: 1, duplicates: 2 })
    expect(problems).toContain('email lost: "confirm 2" (1 expected, 0 received)')
  })

  it('a step flagged possible_duplicate may have sent its message once more, and never a third time', () => {
    const twice = { messageIds: ['<a>', '<a>', '<b>', '<c>'], subjects: ['confirm 1', 'confirm 1', 'confirm 2', 'welcome 9'], fates: answered(4) }
    expect(checkEmails(expected, twice, new Map([['<a>', 2]]), [])).toMatchObject({ duplicates: 0, lost: 0, flaggedCopies: 1 })
    expect(checkEmails(expected, twice, new Map(), [])).toMatchObject({ duplicates: 1 })
    const subjects = ['confirm 1', 'confirm 1', 'confirm 1', 'confirm 2', 'welcome 9']
    const thrice = { messageIds: ['<a>', '<a>', '<a>', '<b>', '<c>'], subjects, fates: answered(5) }
    expect(checkEmails(expected, thrice, new Map([['<a>', 3]]), [])).toMatchObject({ duplicates: 1, flaggedMore: 1 })
    // however the copies ended: a third is a duplicate
    const cutOnce: CopyFate[] = ['sender gone', 'cut', 'answered', 'answered', 'answered']
    expect(checkEmails(expected, { ...thrice, fates: cutOnce }, new Map([['<a>', 3]]), [])).toMatchObject({ duplicates: 1 })
  })
})

describe('checkCalls', () => {
  const expected = [order('1'), order('2'), { type: 'order.paid', dataId: '2' }]

  it('each expected call under one key: a call taken under two keys is a duplicate, a refused one does not count as taken', () => {
    const problems: string[] = []
    const requests = [call('confirm:1', 'r1:notify'), call('confirm:1', 'r9:notify'), call('confirm:2', 'r2:notify', 503), call('paid:2', 'r3:notify')]
    const attempts = new Map([
      ['r1:notify', 1],
      ['r9:notify', 1],
      ['r3:notify', 1],
    ])
    expect(checkCalls(expected, requests, attempts, problems)).toMatchObject({ expected: 3, applied: 3, refused503: 1, duplicates: 1, lost: 1 })
  })

  it('a key taken again is absorbed by the key only within the attempts its step records', () => {
    const requests = [call('confirm:1', 'r1:notify'), call('confirm:1', 'r1:notify'), call('confirm:2', 'r2:notify'), call('paid:2', 'r3:notify')]
    const within: string[] = []
    const attempts = new Map([
      ['r1:notify', 2],
      ['r2:notify', 1],
      ['r3:notify', 1],
    ])
    expect(checkCalls(expected, requests, attempts, within)).toMatchObject({ repeatsAbsorbed: 1, duplicates: 0, lost: 0 })
    expect(within).toEqual([])
    const beyond: string[] = []
    checkCalls(expected, requests, new Map([...attempts, ['r1:notify', 1]]), beyond)
    expect(beyond).toEqual(['Idempotency-Key r1:notify taken 2 times, more than the 1 attempts its step records'])
  })
})
