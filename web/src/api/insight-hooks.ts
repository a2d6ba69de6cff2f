import { useMutation, useQuery } from '@tanstack/react-query'
import { api, currentStore, query } from './client.ts'
import type { DailyFigures, MessageFigures, RunFigures } from '../../../src/contracts/analytics.ts'

export type { DailyFigures, MessageFigures, RunFigures }

/** The Insight pages' data (docs/insight.md): the overview, one workflow's report, a backtest. */

export interface GroupFigures {
  customers: number
  conversion: number
  revenue_per_customer: number
  conversions: number
  revenue: number
}
export interface HoldoutReport {
  treated: GroupFigures
  control: GroupFigures
  lift: number | null
  ci95: [number, number] | null
  enough_data: boolean
  sample_needed: number | null
}
export interface SplitSummary {
  step_id: string
  enough_data: boolean
  leader: string | null
  winner: string | null
  sample_needed_per_variant: number | null
}
export interface Overview {
  from: string
  to: string
  currency: string
  runs: RunFigures
  messages: MessageFigures
  orders_attributed: number
  revenue_attributed: number
  workflows: Array<{ id: string; name: string; runs: number; sent: number; orders_attributed: number; revenue_attributed: number }>
  daily: DailyFigures[]
}
export interface WorkflowInsight extends Omit<Overview, 'workflows'> {
  workflow: { id: string; name: string }
  attribution_window: string
  holdout: HoldoutReport | null
  variants: Array<GroupFigures & { id: string }> | null
  split: SplitSummary | null
  steps: Array<MessageFigures & { id: string; orders_attributed: number; revenue_attributed: number }>
}
export interface BacktestReport {
  from: string
  to: string
  runs: number
  runs_by_status: Record<string, number>
  holdout_runs: number
  messages_by_step: Record<string, number>
  messages_total: number
  discount_codes: number
  discount_value: number
  revenue_attributed_estimate: number
  orders_attributed: number
  customers_over_cap: number
  currency: string
}

export interface Range {
  from: string
  to: string
}

export function useOverview(range: Range) {
  return useQuery({
    queryKey: ['store', currentStore(), 'insight', 'overview', range.from, range.to],
    queryFn: ({ signal }) => api<Overview>(`/api/v1/analytics/overview${query({ from: range.from, to: range.to })}`, { signal }),
    retry: false,
  })
}

export function useWorkflowInsight(id: string, range: Range) {
  return useQuery({
    queryKey: ['store', currentStore(), 'insight', 'workflow', id, range.from, range.to],
    queryFn: ({ signal }) =>
      api<WorkflowInsight>(`/api/v1/analytics/workflows/${encodeURIComponent(id)}${query({ from: range.from, to: range.to })}`, { signal }),
    retry: false,
  })
}

export function useBacktest(id: string) {
  return useMutation({
    mutationFn: (since: string) => api<BacktestReport>(`/api/v1/workflows/${encodeURIComponent(id)}/backtest`, { method: 'POST', body: { since } }),
  })
}
