import type { z } from 'zod'
import type { Clock } from '../lib/clock.ts'
import type { Logger } from '../lib/logger.ts'
import type { ActionServices } from './services.ts'

/**
 * What an action touches.
 * - `none`: pure computation (log).
 * - `internal`: only storeflow's own database; the engine runs it inside the transaction that
 *   records the step's output, so it happens exactly once even across crashes.
 * - `external`: talks to the outside world (SMTP, HTTP); `simulate` never performs it, and it
 *   must use `idempotencyKey` so that a retry after a crash does not act twice.
 */
export type ActionEffects = 'none' | 'internal' | 'external'

export interface ActionRunInfo {
  id: string
  workflowId: string
  workflowVersion: number
  /** the step's key in this run: its id, plus the iteration for steps inside `for_each` */
  stepKey: string
  /** 1 on the first attempt */
  attempt: number
  /** the engine's last attempt for this step; after it fails, the step and the run fail */
  maxAttempts: number
}

export interface ActionStoreInfo {
  id: string
  name: string
  currency: string
  timezone: string
  settings: Record<string, unknown>
}

/** The store's view of the customer the run is about (shape of GET /api/v1/customers/:id). */
export interface ActionCustomer {
  /** storeflow's internal key for the customer */
  key: string
  id: string | null
  email: string | null
  phone: string | null
  first_name: string | null
  last_name: string | null
  accepts_marketing: boolean
  unsubscribed_at: string | null
  timezone: string | null
  tags: string[]
  [field: string]: unknown
}

export interface ActionContext<I> {
  input: I
  /** `${runId}:${stepKey}`: stable across retries and crashes of the same step */
  idempotencyKey: string
  run: ActionRunInfo
  store: ActionStoreInfo
  customer: ActionCustomer | null
  /** everything a template or condition sees: event, trigger, customer, order, cart, steps, store, now */
  scope: Record<string, unknown>
  clock: Clock
  log: Logger
  services: ActionServices
  /** true under `storeflow simulate`: compute the output, touch nothing */
  dryRun: boolean
}

export interface ActionDefinition<I = any, O = any> {
  /** the name users write in workflow files; never changes once shipped */
  type: string
  title: string
  description: string
  input: z.ZodType<I>
  output: z.ZodType<O>
  effects: ActionEffects
  /** safe: the engine may run it again after a crash without harm (it checks its idempotency key) */
  retry: { safe: boolean; maxAttempts?: number; baseDelayMs?: number }
  /** fields of `with` the action renders itself (Liquid with its own scope); the engine leaves them as written */
  rawFields?: string[]
  /** example inputs; the registry test validates each against `input` */
  examples?: I[]
  run(ctx: ActionContext<I>): Promise<O>
}

export function defineAction<I, O>(definition: ActionDefinition<I, O>): ActionDefinition<I, O> {
  return definition
}
