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
    ['broken YAML (a key out of line)', 'id: w\nname: W\ntrigger: { event: order.paid }\n steps: [\n', /^wf\.yaml line 4: /m],
    ['an unclosed flow map', `${head}  - action: tag_customer\n    with: { tags: [vip]\n`, /^wf\.yaml line 7: /m],
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
    [
      'a trigger on an event type no event has (a typo)',
      'id: w\nname: W\ntrigger: { event: order.payed }\nsteps:\n  - action: log\n    with: { message: x }\n',
      /line 3 \(trigger\.event\): unknown event type "order\.payed"; known types: .*order\.paid/,
    ],
    [
      'an exit goal and a wait on unknown event types',
      'id: w\nname: W\ntrigger: { event: order.paid }\nexit_when:\n  - event: nope.nope\nsteps:\n  - wait_for: { event: order.shiped, timeout: 1d }\n',
      /line 5 \(exit_when\[0\]\.event\): unknown event type "nope\.nope"[^\n]*\nwf\.yaml line 7 \(steps\[0\]\.wait_for\.event\): unknown event type "order\.shiped"/,
    ],
  ])('%s', (_name, source, expected) => expect(problem(source)).toMatch(expected))

  it('takes a raw shop topic as a trigger', () => {
    expect(parse('id: w\nname: W\ntrigger: { event: raw.shopify.orders_edited }\nsteps:\n  - action: log\n    with: { message: x }\n').file.trigger).toEqual({
      event: 'raw.shopify.orders_edited',
    })
  })

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

describe('workflow vars', () => {
  const withVars = (vars: string, steps: string, extra = '') => `id: w\nname: W\nvars:\n${vars}trigger: { event: checkout.started }\n${extra}steps:\n${steps}`

  it('puts typed values where a duration or a number goes, and keeps references in conditions and messages', () => {
    const source = withVars(
      '  first_reminder: 1h # the first mail\n  threshold: 100\n  percent: 10\n  valid_for: 7d\n  window: 30d\n',
      [
        "  - wait: '{{ vars.first_reminder }}'",
        "  - if: 'cart.total_price > vars.threshold'",
        '    then:',
        '      - id: code',
        '        action: create_discount_code',
        "        with: { percent: '{{ vars.percent }}', expires_in: '{{ vars.valid_for }}', min_spend: '{{ vars.threshold }}' }",
        '      - action: send_email',
        "        with: { subject: '{{ vars.percent }}% off', html: '<p>{{ steps.code.code }}</p>' }",
        "  - wait_for: { event: order.created, match: 'event.data.total_price > vars.threshold', timeout: '{{ vars.first_reminder }}' }",
        '',
      ].join('\n'),
      "reentry: { per_customer: once_per, window: '{{ vars.window }}' }\nwhen: 'vars.threshold > 0'\n",
    )
    const { file } = parse(source)
    expect(file.vars).toEqual({ first_reminder: '1h', threshold: 100, percent: 10, valid_for: '7d', window: '30d' })
    expect(file.steps[0]).toEqual({ wait: '1h' })
    expect(file.reentry?.window).toBe('30d')
    expect(file.when).toBe('vars.threshold > 0')
    const branch = file.steps[1] as { if: string; then: Array<{ with: Record<string, unknown> }> }
    expect(branch.if).toBe('cart.total_price > vars.threshold')
    expect(branch.then[0]!.with).toEqual({ percent: 10, expires_in: '7d', min_spend: 100 })
    expect(branch.then[1]!.with.subject).toBe('{{ vars.percent }}% off')
    expect((file.steps[2] as { wait_for: { timeout: string } }).wait_for.timeout).toBe('1h')
  })

  it('replaces references in split weights, holdout and a wait_for timeout inside branches', () => {
    const source = withVars(
      '  share_a: 70\n  share_b: 30\n  control: 10%\n  patience: 2d\n',
      [
        '  - split:',
        '      variants:',
        "        - { id: a, weight: '{{ vars.share_a }}', steps: [ { wait_for: { event: order.created, timeout: '{{ vars.patience }}' } } ] }",
        "        - { id: b, weight: '{{ vars.share_b }}', steps: [ { exit: true } ] }",
        '',
      ].join('\n'),
      "holdout: '{{ vars.control }}'\n",
    )
    const { file } = parse(source)
    expect(file.holdout).toBe('10%')
    const split = file.steps[0] as { split: { variants: Array<{ weight: number; steps: unknown[] }> } }
    expect(split.split.variants.map((v) => v.weight)).toEqual([70, 30])
    expect(split.split.variants[0]!.steps[0]).toEqual({ wait_for: { event: 'order.created', timeout: '2d' } })
  })

  it('a value keeps its type: text is not a number', () => {
    expect(problem(withVars("  percent: '15'\n", "  - action: create_discount_code\n    with: { percent: '{{ vars.percent }}' }\n"))).toMatch(
      /line 8 \(steps\[0\]\.with\.percent\): .*\(from vars\.percent = "15", line 4\)/,
    )
  })

  it.each([
    [
      'a var that is not a duration where one goes',
      withVars('  first_reminder: soon\n', "  - wait: '{{ vars.first_reminder }}'\n"),
      /line 7 \(steps\[0\]\.wait\): must be a duration.*\(from vars\.first_reminder = "soon", line 4\)/,
    ],
    [
      'a var of the wrong type in an action input',
      withVars('  percent: ten\n', "  - action: create_discount_code\n    with: { percent: '{{ vars.percent }}' }\n"),
      /line 8 \(steps\[0\]\.with\.percent\): .*\(from vars\.percent = "ten", line 4\)/,
    ],
    ['an undefined var in a wait', withVars('  a: 1h\n', "  - wait: '{{ vars.b }}'\n"), /^wf\.yaml line 7 \(steps\[0\]\.wait\): vars\.b is not defined/],
    [
      'an undefined var in a condition',
      withVars('  a: 1\n', "  - if: 'cart.total_price > vars.limit'\n    then: [ { exit: true } ]\n"),
      /line 7 \(steps\[0\]\.if\): vars\.limit is not defined/,
    ],
    ['an undefined var in when', withVars('  a: 1\n', '  - exit: true\n', 'when: \'vars["nope"] == 1\'\n'), /line 6 \(when\): vars\.nope is not defined/],
    [
      'an undefined var in a message',
      withVars('  a: 1\n', "  - action: send_email\n    with: { subject: 'Hi', html: '{% if vars.big %}big{% endif %}' }\n"),
      /line 8 \(steps\[0\]\.with\.html\): vars\.big is not defined/,
    ],
    ['an undefined var without a vars block', `${head}  - wait: '{{ vars.delay }}'\n`, /line 5 \(steps\[0\]\.wait\): vars\.delay is not defined/],
    ['a bad var name', withVars('  first-reminder: 1h\n', '  - exit: true\n'), /line 4 \(vars\.first-reminder\): a var name is letters, digits and _/],
    ['a var holding a list', withVars('  days: [1, 2]\n', '  - exit: true\n'), /line 4 \(vars\.days\): a var is a string, a number or true\/false/],
    ['a var holding Liquid', withVars("  subject: '{{ customer.first_name }}'\n", '  - exit: true\n'), /\(vars\.subject\): a var is a plain value/],
    [
      'too many vars',
      withVars(Array.from({ length: 51 }, (_, i) => `  v${i}: ${i}\n`).join(''), '  - exit: true\n'),
      /\(vars\): a workflow has at most 50 vars/,
    ],
    [
      'a loop variable named vars',
      withVars('  a: 1\n', "  - for_each: 'cart.line_items'\n    as: vars\n    steps: [ { exit: true } ]\n"),
      /\(steps\[0\]\.as\): vars is the workflow's vars/,
    ],
  ])('refuses %s, naming the var and the line', (_name, source, expected) => expect(problem(source)).toMatch(expected))

  it('a message may still read its own step vars as vars.NAME', () => {
    const parsed = parse(`${head}  - action: send_email\n    with: { subject: 'Hi', html: '{{ vars.code }}', vars: { code: '{{ trigger.data.id }}' } }\n`)
    expect(parsed.file.vars).toBeUndefined()
  })

  it('a var name in quoted text is no reference', () => {
    expect(() =>
      parse(`${head}  - if: '"vars.x" != ""'\n    then: [ { exit: true } ]\n  - action: log\n    with: { message: '{{ "vars.y" | upcase }}' }\n`),
    ).not.toThrow()
  })

  it('a workflow without vars parses to the same definition as before', () => {
    const source = `${head}  - wait: 1h\n  - action: log\n    with: { message: '{{ customer.email }}' }\n`
    expect(JSON.stringify(parse(source).file)).toBe(
      JSON.stringify({
        id: 'w',
        name: 'W',
        trigger: { event: 'order.paid' },
        steps: [{ wait: '1h' }, { action: 'log', with: { message: '{{ customer.email }}' } }],
      }),
    )
  })
})
