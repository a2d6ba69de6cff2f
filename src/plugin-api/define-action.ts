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

/**
 * What `storeflow simulate` does with a step of the action.
 * - `perform`: runs it, against simulate's in-memory database; for `none` and `internal` actions,
 *   and for them only.
 * - `dry_run`: runs it with `ctx.dryRun` true: it computes and shows what it would do (renders
 *   the message, names the request) and touches nothing outside.
 * - `skip`: does not run it; the timeline shows the input it would have had. The default for
 *   `external` actions, so a plugin that ignores `ctx.dryRun` can never reach the outside world.
 */
export type SimulateMode = 'perform' | 'dry_run' | 'skip'

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

// the registry holds actions of every input and output type, and `run` takes its input contravariantly,
// so `unknown` would reject every concrete action: `any` is the one type both ways
// biome-ignore lint/suspicious/noExplicitAny: see above
export interface ActionDefinition<I = any, O = any> {
  /** the name users write in workflow files; never changes once shipped */
  type: string
  title: string
  description: string
  input: z.ZodType<I>
  output: z.ZodType<O>
  effects: ActionEffects
  /** what `storeflow simulate` does with it: `perform` exactly when it is not `external` */
  simulate: SimulateMode
  /** safe: the engine may run it again after a crash without harm (it checks its idempotency key) */
  retry: { safe: boolean; maxAttempts?: number; baseDelayMs?: number }
  /** fields of `with` the action renders itself (Liquid with its own scope); the engine leaves them as written */
  rawFields?: string[]
  /** example inputs; the registry test validates each against `input` */
  examples?: I[]
  run(ctx: ActionContext<I>): Promise<O>
}

/** An action as written: `simulate` may be left to its default, from `effects`. */
export type ActionDeclaration<I, O> = Omit<ActionDefinition<I, O>, 'simulate'> & { simulate?: SimulateMode }

export function defineAction<I, O>(declaration: ActionDeclaration<I, O>): ActionDefinition<I, O> {
  const simulate = declaration.simulate ?? defaultSimulateMode(declaration.effects)
  // the engine hands ctx.dryRun to external actions only: a dry run of anything else would act
  if ((declaration.effects === 'external') !== (simulate !== 'perform')) {
    throw new Error(
      declaration.effects === 'external'
        ? `action ${declaration.type}: simulate never performs an external action; declare simulate: 'dry_run' (it honours ctx.dryRun) or 'skip'`
        : `action ${declaration.type}: simulate performs an action with effects '${declaration.effects}' in its in-memory database; declare simulate: 'perform'`,
    )
  }
  return { ...declaration, simulate }
}

/** `perform` what stays inside storeflow; `skip` what reaches outside, unless it declares a dry run. */
export function defaultSimulateMode(effects: ActionEffects): SimulateMode {
  return effects === 'external' ? 'skip' : 'perform'
}
