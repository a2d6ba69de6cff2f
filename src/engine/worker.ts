import type { Logger } from '../lib/logger.ts'
import { Engine } from './engine.ts'

export interface WorkerOptions {
  /** runs advanced at once; default 8 */
  concurrency?: number
  /** how often to look for due runs when idle, ms; default 250 */
  pollMs?: number
  /** runs claimed per look; default 100 */
  batch?: number
}

/**
 * Claims due runs with leases and advances them. Several workers (processes or machines) can
 * run at once: claims skip leased rows, and a crashed worker's runs are claimed again once its
 * lease expires. stop() lets in-flight steps finish; nothing is left half-done.
 */
export class Worker {
  readonly id = Engine.workerId()
  private running = false
  private wake: (() => void) | null = null
  private loop: Promise<void> | null = null
  private unsubscribe: (() => void) | null = null

  constructor(private readonly engine: Engine, private readonly log: Logger, private readonly options: WorkerOptions = {}) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.unsubscribe = this.engine.onRunsDue(() => this.wake?.())
    this.loop = this.run()
    this.log.info({ workerId: this.id }, 'worker started')
  }

  private async run(): Promise<void> {
    const pollMs = this.options.pollMs ?? 250
    while (this.running) {
      let claimed = 0
      try {
        claimed = await this.engine.tick(this.id, this.options.batch ?? 100, this.options.concurrency ?? 8)
      } catch (err) {
        this.log.error({ err }, 'worker tick failed')
      }
      // better-sqlite3 answers synchronously: without a turn of the event loop between ticks, an
      // embedded worker with runs due would starve the HTTP server sharing its process
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (claimed === 0 && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs)
          this.wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        this.wake = null
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false
    this.unsubscribe?.()
    this.wake?.()
    await this.loop
    this.log.info({ workerId: this.id }, 'worker stopped')
  }
}
