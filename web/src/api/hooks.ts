import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api, ApiError, currentStore, setCsrfToken } from './client.ts'
import { usePagedList } from './paged.ts'
import type { Message, Page, Run, Session, Template, WorkflowDetail, WorkflowSummary } from './types.ts'

/** How often the runs list asks again, so new runs appear without a reload. */
export const LIVE_INTERVAL_MS = 3_000

/** Every store-bound query key starts with the store, so switching stores never shows the other's data. */
const key = (...parts: unknown[]) => ['store', currentStore(), ...parts]

// --- the session ---

/** The signed-in user, or null when signed out (401). */
export function useSession() {
  return useQuery({
    queryKey: ['session'],
    queryFn: async (): Promise<Session | null> => {
      try {
        const session = await api<Session>('/api/v1/auth/session')
        setCsrfToken(session.csrf_token)
        return session
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 404)) return null
        throw err
      }
    },
    staleTime: 60_000,
    retry: false,
  })
}

export function useSignIn() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (credentials: { email: string; password: string }) =>
      api<{ user: Session['user']; csrf_token: string }>('/api/v1/auth/login', { method: 'POST', body: credentials }),
    onSuccess: async (answer) => {
      setCsrfToken(answer.csrf_token)
      await client.invalidateQueries({ queryKey: ['session'] })
    },
  })
}

export function useSignOut() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: () => api<void>('/api/v1/auth/logout', { method: 'POST' }),
    onSettled: () => {
      setCsrfToken(null)
      // the signed-out form shows at once; nothing of the store stays in memory
      client.setQueryData(['session'], null)
      client.removeQueries({ queryKey: ['store'] })
    },
  })
}

// --- workflows and templates ---

export function useWorkflows() {
  return useQuery({ queryKey: key('workflows'), queryFn: () => api<Page<WorkflowSummary>>('/api/v1/workflows?limit=200') })
}

export function useWorkflow(id: string) {
  return useQuery({ queryKey: key('workflow', id), queryFn: () => api<WorkflowDetail>(`/api/v1/workflows/${encodeURIComponent(id)}`) })
}

export function useWorkflowYaml(id: string) {
  return useQuery({
    queryKey: key('workflow', id, 'yaml'),
    queryFn: () => api<string>(`/api/v1/workflows/${encodeURIComponent(id)}/export?format=yaml`, { text: true }),
  })
}

export function useSetWorkflowActive() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) =>
      api<WorkflowSummary>(`/api/v1/workflows/${encodeURIComponent(id)}/${active ? 'activate' : 'deactivate'}`, { method: 'POST' }),
    onSuccess: () => client.invalidateQueries({ queryKey: key('workflows') }),
  })
}

/** The template library; `null` when this server has no templates route. */
export function useTemplates() {
  return useQuery({
    queryKey: key('templates'),
    queryFn: async () => {
      try {
        return await api<Page<Template>>('/api/v1/templates')
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null
        throw err
      }
    },
    staleTime: 5 * 60_000,
  })
}

export function useInstallTemplate() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (name: string) => api<WorkflowSummary>(`/api/v1/templates/${encodeURIComponent(name)}/install`, { method: 'POST' }),
    onSuccess: () => client.invalidateQueries({ queryKey: key('workflows') }),
  })
}

// --- runs ---

export interface RunFilter {
  workflow?: string
  status?: string
  customer?: string
}

/** The newest runs, asked again every few seconds (live). */
export function useRuns(filter: RunFilter) {
  return usePagedList<Run>(key('runs', filter), '/api/v1/runs', { ...filter }, LIVE_INTERVAL_MS)
}

export function useRun(id: string) {
  return useQuery({
    queryKey: key('run', id),
    queryFn: () => api<Run>(`/api/v1/runs/${encodeURIComponent(id)}`),
    // a run still going changes under the operator's eyes
    refetchInterval: (q) => (q.state.data && ['running', 'waiting'].includes(q.state.data.status) ? LIVE_INTERVAL_MS : false),
  })
}

export function useRunAction() {
  const client = useQueryClient()
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: 'retry' | 'cancel' }) =>
      api<Run>(`/api/v1/runs/${encodeURIComponent(id)}/${action}`, { method: 'POST' }),
    onSuccess: (run) => {
      client.setQueryData(key('run', run.id), run)
      return client.invalidateQueries({ queryKey: key('runs') })
    },
  })
}

// --- the outbox ---

export function useMessages(filter: { status?: string; customer?: string }) {
  return usePagedList<Message>(key('messages', filter), '/api/v1/messages', { ...filter }, LIVE_INTERVAL_MS * 2)
}
