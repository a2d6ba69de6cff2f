import type { ServiceContext } from './context.ts'

/** What the dashboard's page shows about the running installation. */
export function createDashboardService(ctx: ServiceContext) {
  return {
    /** the database the engine runs on: `sqlite` or `postgres` */
    databaseDialect: () => ctx.handle.dialect,
  }
}

export type DashboardService = ReturnType<typeof createDashboardService>
