import type { Config } from '../config.ts'
import type { Engine } from '../engine/engine.ts'
import type { Clock } from '../lib/clock.ts'
import type { OutboundClient } from '../lib/guarded-request.ts'
import type { Logger } from '../lib/logger.ts'
import type { ActionDefinition } from '../plugin-api/define-action.ts'
import type { DatabaseHandle } from '../store/db.ts'
import type { OpenPartition } from './backtest.ts'
import type { OpenApp } from './simulate.ts'

/**
 * What a use case may reach: storage (through store/ repos only), the engine, the action
 * registry, the guarded outbound client, the clock and the log. HTTP and the CLI never see
 * this; they call the services built from it (services/index.ts).
 */
export interface ServiceContext {
  config: Config
  handle: DatabaseHandle
  engine: Engine
  actions: ReadonlyMap<string, ActionDefinition>
  http: OutboundClient
  clock: Clock
  log: Logger
  /** who changes made through this process are written as in the audit log when no caller says (the CLI: `cli:<os user>`); default `system` */
  actor?: string
  /** opens simulate's sandbox app (in-memory database, virtual clock): the composition root's createApp; absent in a sandbox */
  openSandbox?: OpenApp
  /** opens one sandbox of a backtest split by customer, in a thread of its own (backtest-partition.ts) */
  openBacktestPartition?: OpenPartition
}
