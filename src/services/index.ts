import type { ServiceContext } from './context.ts'

/**
 * The use cases, one module per subject. HTTP routes, CLI commands and the dashboard call these;
 * they reach storage through store/ and runs through the engine, never directly.
 */
export function createServices(ctx: ServiceContext) {
  return {}
}

export type Services = ReturnType<typeof createServices>
export type { ServiceContext } from './context.ts'
