import { createHash } from 'node:crypto'
import type { Clock } from '../lib/clock.ts'
import { describeRate, TokenBuckets, type Rate } from '../lib/token-bucket.ts'
import type { ServiceContext } from './context.ts'
import { FLUSH_EVERY_MS, SignatureFailureTally } from './signature-failures.ts'

/**
 * What stands between the ingest routes and storage besides validation: the ingest rate limit
 * (STOREFLOW_INGEST_RATE_LIMIT) and the in-memory tally of refused webhook signatures. One per
 * server; both are per process (docs/limits.md says so).
 */
export interface IngestGuards {
  signatureFailures: SignatureFailureTally
  /** null when STOREFLOW_INGEST_RATE_LIMIT is off (the default) */
  rate: IngestRateLimit | null
  /** stops the flush timer and writes the tally; the server calls it on close */
  close(): Promise<void>
}

/** Token buckets per API key (events API) and per store (webhooks), on the engine's clock. */
export class IngestRateLimit {
  private readonly keys: TokenBuckets
  private readonly stores: TokenBuckets

  constructor(
    readonly rate: Rate,
    private readonly clock: Clock,
  ) {
    this.keys = new TokenBuckets(rate)
    this.stores = new TokenBuckets(rate)
  }

  /** Seconds to wait before this API key may ingest again, or null if it may now. */
  forApiKey(token: string): number | null {
    // keyed by a digest: the map holds no usable key
    return seconds(this.keys.take(createHash('sha256').update(token).digest('base64url'), this.clock.now().getTime()))
  }

  /** Seconds to wait before a webhook for this store is taken in again, or null if it may be now. */
  forStore(storeId: string): number | null {
    return seconds(this.stores.take(storeId, this.clock.now().getTime()))
  }

  /** "600 ingest requests per minute" */
  describe(what: string): string {
    return describeRate(this.rate, what)
  }
}

function seconds(result: ReturnType<TokenBuckets['take']>): number | null {
  return result.ok ? null : Math.max(1, Math.ceil(result.retryAfterMs / 1000))
}

function createIngestGuards(ctx: ServiceContext): IngestGuards {
  const signatureFailures = new SignatureFailureTally(ctx.handle.db, ctx.log)
  const timer = setInterval(() => void signatureFailures.flush(), FLUSH_EVERY_MS)
  // the timer alone must not keep a process alive (a CLI command that builds a server and ends)
  timer.unref()
  return {
    signatureFailures,
    rate: ctx.config.ingestRateLimit ? new IngestRateLimit(ctx.config.ingestRateLimit, ctx.clock) : null,
    async close() {
      clearInterval(timer)
      await signatureFailures.flush()
    },
  }
}

export function createIngestGuardsService(ctx: ServiceContext) {
  return {
    /** One set per HTTP server: the server closes it when it closes. */
    open: (): IngestGuards => createIngestGuards(ctx),
  }
}
