/**
 * Errors say who must act. `UserError` is bad input (answered 4xx, never alerted),
 * `OperationalError` is transient (retry later), anything else is a bug.
 * Codes are persisted in API answers and run timelines: never rename one.
 */
export const ERROR_CODES = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface StoreflowErrorOptions {
  code?: ErrorCode
  cause?: unknown
  details?: unknown
}

export class StoreflowError extends Error {
  readonly code: ErrorCode
  readonly details: unknown

  constructor(message: string, options: StoreflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code ?? 'internal'
    this.details = options.details
  }

  get status(): number {
    return ERROR_CODES[this.code]
  }
}

/** Bad input from a user: the message names the field or line and the fix. */
export class UserError extends StoreflowError {
  constructor(message: string, options: StoreflowErrorOptions = {}) {
    super(message, { code: 'bad_request', ...options })
  }
}

/** Something outside us is down or busy; trying again later may work. */
export class OperationalError extends StoreflowError {
  constructor(message: string, options: StoreflowErrorOptions = {}) {
    super(message, { code: 'unavailable', ...options })
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
