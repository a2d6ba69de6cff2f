/**
 * The one way the dashboard talks to the server: same-origin fetch with the session cookie, the
 * store it acts on (`X-Storeflow-Store`) and, on every change, the session's CSRF token. An error
 * answer `{ error: { code, message, details } }` becomes an ApiError carrying those fields.
 */

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  /** the input field the server named, when it named one */
  readonly field: string | null

  constructor(status: number, code: string, message: string, details: unknown) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    const field = details && typeof details === 'object' ? (details as { field?: unknown }).field : undefined
    this.field = typeof field === 'string' ? field : null
  }
}

const STORE_KEY = 'storeflow.store'
let csrfToken: string | null = null

export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

/** The store the dashboard acts on: the last one chosen in this browser, else `default`. */
export function currentStore(): string {
  try {
    return localStorage.getItem(STORE_KEY) || 'default'
  } catch {
    return 'default'
  }
}

export function setCurrentStore(id: string): void {
  try {
    localStorage.setItem(STORE_KEY, id)
  } catch {
    // private mode without storage: the choice lasts until reload
  }
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  body?: unknown
  /** read the answer as text (the YAML export) instead of JSON */
  text?: boolean
  signal?: AbortSignal
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET'
  const headers: Record<string, string> = { accept: options.text ? 'text/plain, application/yaml' : 'application/json', 'x-storeflow-store': currentStore() }
  if (CHANGES.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken
  let body: string | undefined
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  const response = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: options.signal })
  if (!response.ok) throw await errorOf(response)
  if (response.status === 204) return undefined as T
  return (options.text ? await response.text() : await response.json()) as T
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '')
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } }
    if (error) return new ApiError(response.status, error.code ?? 'error', error.message ?? response.statusText, error.details ?? null)
  } catch {
    // not the API's error shape (a proxy's page): fall through
  }
  return new ApiError(response.status, 'http_error', `${response.status} ${response.statusText}`.trim(), null)
}

/** `?a=1&b=2` from the given values, leaving out empty ones. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v))
  const s = search.toString()
  return s ? `?${s}` : ''
}
