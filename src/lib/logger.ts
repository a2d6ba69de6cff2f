import { pino, type Logger } from 'pino'

export type { Logger }

/** JSON lines on stdout; `STOREFLOW_LOG_LEVEL` (default `info`, `silent` in tests). */
export function createLogger(level = process.env.STOREFLOW_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info')): Logger {
  return pino({ level, base: { service: 'storeflow' } })
}

export const silentLogger: Logger = pino({ level: 'silent' })
