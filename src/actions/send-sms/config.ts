/**
 * The SMS provider, from the environment: `STOREFLOW_SMS_URL` is the provider's "create message"
 * endpoint with the account's credentials in it, Twilio-style
 * (`https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json`), and
 * `STOREFLOW_SMS_FROM` the sending number. Unset: messages stay in the outbox.
 */
export interface SmsConfig {
  /** the endpoint without credentials (fetch refuses URLs that carry them) */
  endpoint: string
  /** `Basic …` from the URL's user and password, or null when it has none */
  authorization: string | null
  from: string | null
}

export function smsConfig(env: NodeJS.ProcessEnv = process.env): SmsConfig | null {
  const raw = env.STOREFLOW_SMS_URL?.trim()
  if (!raw) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new Error('STOREFLOW_SMS_URL is not a URL; write it like https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json')
  }
  const user = decodeURIComponent(url.username)
  const password = decodeURIComponent(url.password)
  url.username = ''
  url.password = ''
  return {
    endpoint: url.toString(),
    authorization: user || password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : null,
    from: env.STOREFLOW_SMS_FROM?.trim() || null,
  }
}
