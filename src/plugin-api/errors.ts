import { StoreflowError, type StoreflowErrorOptions } from '../lib/errors.ts'

/**
 * Actions tell the engine what to do with classes, never with message text.
 * `RetryableError`: try the step again later (after `retryAfter`, or backoff).
 * `PermanentError`: the step failed for good; retrying would not help.
 * `SkipStep`: the step deliberately did nothing (consent, frequency cap, budget); the run goes on.
 * `DeferStep`: not now, try at `until` (quiet hours); does not count as a failed attempt.
 */
export class RetryableError extends StoreflowError {
  readonly retryAfterMs: number | undefined

  constructor(message: string, options: StoreflowErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, { code: 'unavailable', ...options })
    this.retryAfterMs = options.retryAfterMs
  }
}

export class PermanentError extends StoreflowError {
  readonly reason: string

  constructor(message: string, options: StoreflowErrorOptions & { reason?: string } = {}) {
    super(message, { code: 'bad_request', ...options })
    this.reason = options.reason ?? 'failed'
  }
}

export class SkipStep extends Error {
  readonly reason: string
  readonly output: Record<string, unknown>

  constructor(reason: string, output: Record<string, unknown> = {}) {
    super(reason)
    this.name = 'SkipStep'
    this.reason = reason
    this.output = output
  }
}

export class DeferStep extends Error {
  readonly until: Date
  readonly reason: string

  constructor(until: Date, reason: string) {
    super(reason)
    this.name = 'DeferStep'
    this.until = until
    this.reason = reason
  }
}
