import { errorMessage } from '../lib/errors.ts'
import { OutboundError } from '../lib/guarded-request.ts'
import { PermanentError, RetryableError } from './errors.ts'

export {
  OutboundError,
  PrivateAddressError,
  RedirectRefusedError,
  ResponseTooLargeError,
  TimeLimitError,
  type OutboundClient,
  type OutboundLimit,
  type OutboundRequest,
  type OutboundResponse,
} from '../lib/guarded-request.ts'

/**
 * What a failed `services.http` request means for the step. A refused address, a redirect or an
 * oversized answer fails the same way every time: the step fails for good, with the limit as its
 * reason (`private_address`, `redirect`, `response_size`, `scheme`). A time limit or a network
 * failure may pass: retry. `what` names the other side, e.g. "SMS provider".
 */
export function outboundFailure(what: string, err: unknown): PermanentError | RetryableError {
  if (err instanceof OutboundError && !err.retryable)
    return new PermanentError(`${what}: ${err.message}`, { reason: err.limit, cause: err, details: { limit: err.limit, host: err.host } })
  const cause = (err as { cause?: { code?: string } }).cause
  return new RetryableError(`${what} unreachable: ${cause?.code ?? errorMessage(err)}`, { cause: err })
}
