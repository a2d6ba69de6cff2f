import addressparser from 'nodemailer/lib/addressparser'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isOneRecipient } from './recipient.ts'

/** what nodemailer would send to, given this `to` */
function recipientsOf(to: string): string[] {
  return (addressparser(to, { flatten: true }) as Array<{ address: string }>).map((a) => a.address)
}

describe('isOneRecipient', () => {
  it('accepts one address, bare or with a display name', () => {
    for (const to of [
      'ada@example.com',
      'Ada Lovelace <ada@example.com>',
      '"Lovelace, Ada" <ada@example.com>',
      "O'Brien <ob@example.ie>",
      'Zoë <zoe@example.de>',
    ]) {
      expect(isOneRecipient(to), to).toBe(true)
      expect(recipientsOf(to), to).toHaveLength(1)
    }
  })

  it('refuses what the unanchored pattern let through: lists, groups and a Bcc after a line break', () => {
    for (const to of [
      'Eve <eve@example.com>\r\nBcc: victim@z.example',
      'ada@example.com,victim@z.example,<x@y.example>',
      'ada@example.com, victim@z.example <x@y.example>',
      'list: a@b.example, c@d.example; <x@y.example>',
      '<x@y.example> victim@z.example',
      'evil<x@y.example>trailing',
      'x@y.example\r\nBcc: victim@z.example',
      'ada@example.com,c',
    ]) {
      expect(isOneRecipient(to), JSON.stringify(to)).toBe(false)
    }
  })

  it('whatever it accepts, the mailer sees exactly one recipient', () => {
    const piece = fc.string({
      unit: fc.constantFrom('a', 'Z', '.', ' ', ',', ';', ':', '<', '>', '@', '"', '\\', '\r', '\n', '(', ')', 'é', '-', "'"),
      maxLength: 12,
    })
    fc.assert(
      fc.property(piece, piece, piece, (name, local, domain) => {
        for (const to of [`${local}@${domain}`, `${name}<${local}@${domain}>`, `${name} <${local}@${domain}>`, `"${name}" <${local}@${domain}>`]) {
          if (isOneRecipient(to)) expect(recipientsOf(to), JSON.stringify(to)).toHaveLength(1)
        }
      }),
      { numRuns: 3000 },
    )
  })
})
