import type { TriggerSpec, WorkflowFile } from '../../../src/contracts/workflow.ts'

/** The API's shapes as the dashboard reads them (PRODUCT.md §9; src/http/routes). */

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export type Role = 'owner' | 'admin' | 'viewer' | (string & {})

export interface User {
  id: string
  email: string
  role: Role
}

export interface StoreInfo {
  id: string
  name: string
  currency: string
  timezone: string
}

export interface Session {
  user: User
  csrf_token: string
  stores: StoreInfo[]
}

export interface WorkflowSummary {
  id: string
  name: string
  version: number
  active: boolean
  trigger: TriggerSpec
  created_at: string
  updated_at: string
}

export interface WorkflowDetail extends WorkflowSummary {
  versions: number[]
  /** the workflow file as it was saved (src/contracts/workflow.ts) */
  definition: WorkflowFile
  source: string
}

export interface Template {
  name: string
  title: string
  description: string
  trigger: Record<string, unknown>
  installable: boolean
  reason: string | null
}

export const RUN_STATUSES = ['running', 'waiting', 'completed', 'exited', 'failed', 'cancelled'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export interface RunStep {
  id: string
  key?: string
  type: string
  status: string
  attempts: number
  started_at: string | null
  ended_at: string | null
  wake_at?: string
  input?: unknown
  output?: unknown
  error?: string
}

export interface Run {
  id: string
  workflow_id: string
  workflow_version: number
  status: RunStatus
  trigger_event_id: string | null
  customer_id: string | null
  customer_email: string | null
  holdout?: boolean
  started_at: string
  ended_at: string | null
  wake_at?: string | null
  steps: RunStep[]
}

export interface Message {
  id: string
  channel: string
  category: string | null
  status: string
  to: string | null
  from: string | null
  subject: string | null
  html: string | null
  text: string | null
  error: string | null
  run_id: string | null
  workflow_id: string | null
  step: string | null
  opens: number
  clicks: number
  created_at: string
  sent_at: string | null
}
