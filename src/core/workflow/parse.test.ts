import { describe, expect, it } from 'vitest'
import { createActionRegistry } from '../../actions/index.ts'
import { UserError } from '../../lib/errors.ts'
import { parseWorkflow } from './parse.ts'

const registry = createActionRegistry()
const parse = (source: string) => parseWorkflow(source, (t) => registry.get(t), 'wf.yaml')
const problem = (source: string): string => {
  try {
    parse(source)
  } catch (err) {
    expect(err).toBeInstanceOf(UserError)
    return (err as Error).message
  }
  throw new Error('accepted')
}
const head = 'id: w\nname: W\ntrigger: { event: order.paid }\nsteps:\n'

describe('workflow files: every problem names its line', () => {
  it.each([
    ['a step with no kind', `${head}  - with: { message: hi }\n`, /line 5 \(steps\[0\]\): a step needs one of: action, if, wait/],
    ['an unknown action', `${head}  - action: teleport\n`, /line 5 \(steps\[0\]\.action\): unknown action "teleport"/],
    ['a bad duration', `${head}  - wait: 3 days\n`, /line 5 \(steps\[0\]\.wait\): must be a duration/],
    [
      'a CEL condition that does not compile',
      `${head}  - if: 'order.total_price >'\n    then: [ { exit: true } ]\n`,
      /line 5 \(steps\[0\]\.if\): condition does not compile/,
    ],
    [
      'an action input of the wrong type',
      `${head}  - action: tag_customer\n    with: { tags: 'vip' }\n`,
      /line 6 \(steps\[0\]\.with\.tags\): .*expected array/,
    ],
    [
      'Liquid in an inline html',
      `${head}  - action: send_email\n    with:\n      subject: hi\n      html: '{% iff x %}'\n`,
      /line 8 \(steps\[0\]\.with\.html\): .*tag "iff" not found/,
    ],
    [
      'Liquid inside vars',
      `${head}  - action: send_email\n    with:\n      subject: hi\n      html: hi\n      vars: { code: '{{ steps.code.code | bogus }}' }\n`,
      /line 9 \(steps\[0\]\.with\.vars\.code\): .*undefined filter: bogus/,
    ],
    [
      'Liquid in to',
      `${head}  - action: send_email\n    with:\n      subject: hi\n      html: hi\n      to: '{{ customer.email | bogus }}'\n`,
      /\(steps\[0\]\.with\.to\): .*undefined filter: bogus/,
    ],
    [
      'a duplicate step id',
      `${head}  - action: log\n    id: a\n    with: { message: x }\n  - action: log\n    id: a\n    with: { message: y }\n`,
      /line 9 \(steps\[1\]\.id\): step id "a" is already used/,
    ],
    [
      'a cron expression that does not parse',
      'id: w\nname: W\ntrigger: { cron: "61 9 * * *" }\nsteps:\n  - action: log\n    with: { message: x }\n',
      /line 3 \(trigger\.cron\): not a valid cron expression: .*minute/,
    ],
    [
      'a cron expression that never fires',
      'id: w\nname: W\ntrigger: { cron: "0 0 30 2 *" }\nsteps:\n  - action: log\n    with: { message: x }\n',
      /\(trigger\.cron\): this cron expression never fires/,
    ],
    [
      'an unknown time zone',
      'id: w\nname: W\ntrigger:\n  cron: "0 9 * * *"\n  timezone: Europe/Berlln\nsteps:\n  - action: log\n    with: { message: x }\n',
      /line 5 \(trigger\.timezone\): unknown time zone "Europe\/Berlln"/,
    ],
    [
      'once_per without a window',
      `${head}  - action: log\n    with: { message: x }\nreentry: { per_customer: once_per }\n`,
      /line 7 \(reentry\): per_customer: once_per needs a window/,
    ],
  ])('%s', (_name, source, expected) => expect(problem(source)).toMatch(expected))

  it('reports every problem at once', () => {
    const message = problem(`${head}  - wait: soon\n  - action: log\n  - wait: later\n`)
    expect(message.split('\n')).toEqual([expect.stringMatching(/line 5 \(steps\[0\]\.wait\)/), expect.stringMatching(/line 7 \(steps\[2\]\.wait\)/)])
  })

  it('accepts a schedule in a time zone', () => {
    const parsed = parse('id: w\nname: W\ntrigger: { cron: "0 9 * * 1", timezone: Europe/Berlin }\nsteps:\n  - action: log\n    with: { message: x }\n')
    expect(parsed.file.trigger).toEqual({ cron: '0 9 * * 1', timezone: 'Europe/Berlin' })
  })

  it('accepts a workflow with Liquid left for run time in typed fields', () => {
    const parsed = parse(`${head}  - action: http_request\n    with: { url: 'https://hooks.example.com/{{ order.id }}', timeout: '5s' }\n`)
    expect(parsed.program.map((i) => i.op)).toEqual(['action', 'end'])
  })
})
