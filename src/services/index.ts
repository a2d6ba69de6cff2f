import { createAuditLogService } from './audit-log.ts'
import { createBacktestService } from './backtest.ts'
import { createAnalyticsService } from './analytics.ts'
import { createWorkflowEditor } from './workflow-editor.ts'
import { createConnectorsService } from './connectors.ts'
import type { ServiceContext } from './context.ts'
import { createDashboardService } from './dashboard.ts'
import { createDeliveriesService } from './deliveries.ts'
import { createDiscountCodesService } from './discount-codes.ts'
import { createDemoService } from './demo.ts'
import { createEventService } from './events.ts'
import { createFormsService } from './forms.ts'
import { createHealthService } from './health.ts'
import { createIngestGuardsService } from './ingest-guards.ts'
import { createKeysService } from './keys.ts'
import { createMaintenanceService } from './maintenance.ts'
import { createPrivacyService } from './privacy.ts'
import { createRecommendationsService } from './recommendations.ts'
import { createRemoteService } from './remote.ts'
import { createRunService } from './runs.ts'
import { createSegmentsService } from './segments.ts'
import { createSessionsService } from './sessions.ts'
import { createInventoryService } from './inventory.ts'
import { createSimulationService } from './simulate.ts'
import { createStoreViewService } from './store-view.ts'
import { createInvoiceService } from './invoices.ts'
import { createPurchaseOrderService, createSupplierService } from './purchasing.ts'
import { createStoresService } from './stores.ts'
import { createStoreListsService } from './store-lists.ts'
import { createTrackingService } from './tracking.ts'
import { createUsersService } from './users.ts'
import { createWebhookIntakeService } from './webhook-intake.ts'
import { createWorkersService } from './workers.ts'
import { createWorkflowService } from './workflows.ts'

/**
 * The use cases, one module per subject. HTTP routes, CLI commands and the dashboard call these;
 * they reach storage through store/ and runs through the engine, never directly.
 */
export function createServices(ctx: ServiceContext) {
  const deliveries = createDeliveriesService(ctx)
  const events = createEventService(ctx)
  return {
    webhooks: createWebhookIntakeService(ctx),
    ingestGuards: createIngestGuardsService(ctx),
    deliveries,
    connectors: createConnectorsService(ctx),
    privacy: createPrivacyService(ctx),
    keys: createKeysService(ctx),
    stores: createStoresService(ctx),
    users: createUsersService(ctx),
    sessions: createSessionsService(ctx),
    health: createHealthService(ctx),
    workers: createWorkersService(ctx),
    maintenance: createMaintenanceService(ctx, deliveries),
    events,
    runs: createRunService(ctx),
    workflows: createWorkflowService(ctx),
    storeView: createStoreViewService(ctx),
    recommendations: createRecommendationsService(ctx),
    invoices: createInvoiceService(ctx),
    suppliers: createSupplierService(ctx),
    purchaseOrders: createPurchaseOrderService(ctx),
    discountCodes: createDiscountCodesService(ctx),
    segments: createSegmentsService(ctx),
    inventory: createInventoryService(ctx),
    tracking: createTrackingService(ctx),
    dashboard: createDashboardService(ctx),
    demo: createDemoService(ctx, events),
    simulation: createSimulationService(ctx),
    backtest: createBacktestService(ctx),
    forms: createFormsService(ctx),
    remote: createRemoteService(ctx),
    auditLog: createAuditLogService(ctx),
    storeLists: createStoreListsService(ctx),
    analytics: createAnalyticsService(ctx),
    workflowEditor: createWorkflowEditor(ctx.actions),
  }
}

export type Services = ReturnType<typeof createServices>
export type { ServiceContext } from './context.ts'
