/**
 * What send_email accepts as `to` (and the store's `mail_from` and `mail_reply_to` settings): exactly one recipient, as `ada@example.com` or with a display
 * name, `Ada Lovelace <ada@example.com>` or `"Lovelace, Ada" <ada@example.com>`. Both forms are
 * anchored at both ends and refuse whatever would make the mailer see a second address: a comma
 * or semicolon (a list), a colon (a group), another `<…>` or `@`, and line breaks (a `Bcc:`
 * smuggled in after the address). `to` is often Liquid over data a customer typed, so this is
 * checked when the workflow is saved (a literal) and again on the rendered value before sending.
 */
const ADDRESS = String.raw`[^\s@<>()\[\],;:"\\]+@[^\s@<>()\[\],;:"\\]+`
const BARE = new RegExp(`^${ADDRESS}$`)
// a plain display name has no specials; a quoted one may hold commas, but no quote, backslash or control character
const NAMED = new RegExp(String.raw`^(?:[^\x00-\x1f\x7f<>()\[\]@,;:"\\]*|"[^\x00-\x1f\x7f"\\]*")\s*<${ADDRESS}>$`)

export function isOneRecipient(to: string): boolean {
  return BARE.test(to) || NAMED.test(to)
}

export const RECIPIENT_RULE = 'is not one email address (use ada@example.com or Ada <ada@example.com>; no lists, no line breaks)'
