import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api, currentStore, query } from './client.ts'
import type { Page, WorkflowDetail, WorkflowSummary } from './types.ts'

/** The workflow editor's calls (src/http/routes/workflow-editor.ts, workflows.ts). */

const key = (...parts: unknown[]) => ['store', currentStore(), ...parts]

export interface Problem {
  path: string
  line: number | null
  message: string
}

export interface Validation {
  ok: boolean
  errors: Problem[]
  definition: unknown
}

export interface ActionInfo {
  type: string
  title: string
  description: string
  effects: string
  raw_fields: string[]
  input: JsonSchema
}

export type JsonSchema = {
  type?: string | string[]
  description?: string
  enum?: unknown[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  anyOf?: JsonSchema[]
  default?: unknown
  [key: string]: unknown
}

export interface SimStep {
  id: string
  type: string
  status: string
  at: string
  note: string
  output: unknown
}

export interface Simulation {
  started: boolean
  run_status: string | null
  reason: string | null
  steps: SimStep[]
  messages: Array<{ to: string; subject: string; html: string; [key: string]: unknown }>
}

export interface StoredEvent {
  id: string
  type: string
  occurred_at: string
  data: unknown
}

export const validateWorkflow = (source: string, signal?: AbortSignal) =>
  api<Validation>('/api/v1/workflows/validate', { method: 'POST', body: { source }, ...(signal ? { signal } : {}) })

export const checkExpression = (kind: 'cel' | 'liquid', source: string, signal?: AbortSignal) =>
  api<{ ok: boolean; error: string | null }>('/api/v1/expressions/check', { method: 'POST', body: { kind, source }, ...(signal ? { signal } : {}) })

export function useActions() {
  return useQuery({ queryKey: ['actions'], queryFn: () => api<{ items: ActionInfo[] }>('/api/v1/actions'), staleTime: 10 * 60_000 })
}

export function useWorkflowVersion(id: string, version: number | null) {
  return useQuery({
    queryKey: key('workflow', id, 'version', version),
    queryFn: () => api<WorkflowDetail>(`/api/v1/workflows/${encodeURIComponent(id)}${query({ version })}`),
    enabled: version !== null,
    staleTime: Number.POSITIVE_INFINITY,
  })
}

/** Saves the YAML as it is written (a JSON string body: the server takes the text, comments and all). */
export function useSaveWorkflow(id: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (source: string) => api<WorkflowSummary>(`/api/v1/workflows/${encodeURIComponent(id)}`, { method: 'PUT', body: source }),
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: key('workflow', id) }), client.invalidateQueries({ queryKey: key('workflows') })]),
  })
}

export function useSetActive(id: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (active: boolean) =>
      api<WorkflowSummary>(`/api/v1/workflows/${encodeURIComponent(id)}/${active ? 'activate' : 'deactivate'}`, { method: 'POST' }),
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: key('workflow', id) }), client.invalidateQueries({ queryKey: key('workflows') })]),
  })
}

export function useRecentEvents(type: string | undefined) {
  return useQuery({
    queryKey: key('events', type),
    queryFn: () => api<Page<StoredEvent>>(`/api/v1/events${query({ type, limit: 20 })}`),
  })
}

export function useSimulate(id: string) {
  return useMutation({
    mutationFn: (body: { event: unknown } | { event_id: string }) =>
      api<Simulation>(`/api/v1/workflows/${encodeURIComponent(id)}/test`, { method: 'POST', body }),
  })
}
