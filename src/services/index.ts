import type { ServiceContext } from './context.ts'
import { createDashboardService } from './dashboard.ts'
import { createDemoService } from './demo.ts'
import { createEventService } from './events.ts'
import { createRunService } from './runs.ts'
import { createSimulationService } from './simulate.ts'
import { createStoreViewService } from './store-view.ts'
import { createTrackingService } from './tracking.ts'
import { createWorkflowService } from './workflows.ts'

/**
 * The use cases, one module per subject. HTTP routes, CLI commands and the dashboard call these;
 * they reach storage through store/ and runs through the engine, never directly.
 */
export function createServices(ctx: ServiceContext) {
  const events = createEventService(ctx)
  return {
    events,
    runs: createRunService(ctx),
    workflows: createWorkflowService(ctx),
    storeView: createStoreViewService(ctx),
    tracking: createTrackingService(ctx),
    dashboard: createDashboardService(ctx),
    demo: createDemoService(ctx, events),
    simulation: createSimulationService(ctx),
  }
}

export type Services = ReturnType<typeof createServices>
export type { ServiceContext } from './context.ts'
