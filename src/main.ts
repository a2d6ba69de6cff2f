import { openBacktestPartition } from './backtest-partition.ts'
import { createActionRegistry } from './actions/index.ts'
import { requireSecretKey, type Config } from './config.ts'
import { Engine } from './engine/engine.ts'
import type { SkipDerivations } from './engine/route-event.ts'
import { systemClock, type Clock } from './lib/clock.ts'
import { createOutboundClient, type Resolver } from './lib/guarded-request.ts'
import { createLogger, type Logger } from './lib/logger.ts'
import type { ActionDefinition } from './plugin-api/define-action.ts'
import type { DerivedTriggerDefinition } from './plugin-api/define-trigger.ts'
import { createTriggerRegistry } from './triggers/index.ts'
import { openDatabase } from './store/db.ts'
import { migrate } from './store/migrate.ts'
import { createStorage } from './store/storage.ts'
import { ensureDefaultStore } from './store/stores.repo.ts'
import { createServices, type ServiceContext, type Services } from './services/index.ts'

/**
 * Everything a process needs: what the use cases are built from (database, engine, actions, the
 * guarded client, clock, log) and the use cases themselves. The composition root.
 */
export interface App extends ServiceContext {
  /** the use cases: what HTTP, the CLI and the dashboard call */
  services: Services
  close(): Promise<void>
}

export interface AppOptions {
  clock?: Clock
  log?: Logger
  /** PostgreSQL schema (tests use one per file) */
  schema?: string
  /**
   * run migrations and make sure the default store exists on open; default true. false: read only
   * (simulate reading a stored workflow), which also may run without STOREFLOW_SECRET_KEY on
   * PostgreSQL: it opens no secret and signs nothing
   */
  migrate?: boolean
  extraActions?: ActionDefinition[]
  /** derived triggers beside the built-in ones (tests, plugins) */
  extraTriggers?: DerivedTriggerDefinition[]
  /** false leaves the built-in derived triggers out (tests that count schedule ticks); default true */
  builtInTriggers?: boolean
  /** simulate: external actions do not touch the outside world */
  dryRun?: boolean
  /** a sandbox (backtest): per-event derivations its workflow cannot observe, left out (engine/route-event.ts) */
  skipDerivations?: SkipDerivations
  /** resolves host names for outbound requests; default the system's resolver (tests answer from a table) */
  resolveHost?: Resolver
  /** who changes are written as in the audit log when no caller says (services/audit-log.ts); the CLI sets `cli:<os user>` */
  actor?: string
  /** PostgreSQL: how long a statement waits for an unreachable server before failing, ms (store/db.ts) */
  connectWaitMs?: number
  /** how long one routing transaction may take before it commits, real ms (EngineOptions.routeBudgetMs); tests that count a batch's statements make it long */
  routeBudgetMs?: number
}

/** The HTTP server as the command line drives it: listen, then close on shutdown. */
export interface HttpServer {
  /** starts accepting; resolves to the port it listens on (port 0 picks a free one) */
  listen(port: number, host: string): Promise<number>
  /** stops accepting at once, then waits for the requests in flight */
  close(): Promise<void>
}

/**
 * What the command line cannot build itself and is handed (src/command-line.ts): the app, and the
 * HTTP server over it, each loaded only by the commands that open them.
 */
export interface CommandLineRoot {
  createApp(config: Config, options?: AppOptions): Promise<App>
  buildServer(app: App): Promise<HttpServer>
  /** `worker --metrics-port`: a server of GET /metrics alone */
  buildMetricsServer(app: App): Promise<HttpServer>
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  // before anything opens: every process that reads or writes secrets or signs links needs the shared key
  if (options.migrate !== false) requireSecretKey(config)
  const clock = options.clock ?? systemClock
  const log = options.log ?? createLogger()
  const handle = await openDatabase({
    url: config.databaseUrl,
    log,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.connectWaitMs !== undefined ? { connectWaitMs: options.connectWaitMs } : {}),
  })
  if (options.migrate !== false) {
    const applied = await migrate(handle)
    if (applied.length > 0) log.info({ applied }, 'migrations applied')
  }
  // read-only users (simulate reading a stored workflow) touch neither schema nor data
  if (options.migrate !== false) await ensureDefaultStore(handle.db, clock.now())
  const http = createOutboundClient({
    allowPrivate: config.allowPrivateHttp,
    maxTimeoutMs: config.httpTimeoutMs,
    ...(options.resolveHost ? { resolve: options.resolveHost } : {}),
  })
  const storage = createStorage(
    handle,
    {
      smtpUrl: config.smtpUrl,
      allowPrivateHttp: config.allowPrivateHttp,
      publicUrl: config.publicUrl,
      secretKey: config.secretKey,
      mailFrom: config.mailFrom,
    },
    clock,
    http,
    { analytics: options.skipDerivations?.analytics !== true },
  )
  const actions = createActionRegistry(options.extraActions)
  const triggers = createTriggerRegistry(options.extraTriggers, { builtIn: options.builtInTriggers ?? true })
  const engine = new Engine({
    storage,
    clock,
    log,
    actions,
    triggers,
    leaseMs: config.leaseMs,
    dryRun: options.dryRun ?? false,
    ...(options.skipDerivations ? { skipDerivations: options.skipDerivations } : {}),
    ...(options.routeBudgetMs !== undefined ? { routeBudgetMs: options.routeBudgetMs } : {}),
  })
  // simulate from the API (POST /api/v1/workflows/:id/test) opens its sandbox the way the CLI does: an app of its own
  // (its log says warnings only, as the CLI's: not each sandbox's migrations)
  const sandboxLevel = log.levelVal > 40 ? log.level : 'warn'
  const openSandbox: ServiceContext['openSandbox'] = (sandboxConfig, sandboxOptions) =>
    createApp(sandboxConfig, { log: log.child({ simulate: true }, { level: sandboxLevel }), ...sandboxOptions })
  const services = createServices({
    config,
    handle,
    engine,
    actions,
    http,
    clock,
    log,
    openSandbox,
    // a backtest's sandboxes in threads of their own log as simulate's sandbox does, to stderr
    openBacktestPartition: (setup) => openBacktestPartition(setup, { logLevel: sandboxLevel }),
    ...(options.actor ? { actor: options.actor } : {}),
  })
  return {
    config,
    handle,
    engine,
    actions,
    http,
    clock,
    log,
    services,
    close: () => handle.close(),
  }
}
