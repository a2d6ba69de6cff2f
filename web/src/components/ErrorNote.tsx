import { ApiError } from '../api/client.ts'

/** An error as the operator should read it: the server's message, and the field it named. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null
  const message = error instanceof Error ? error.message : String(error)
  const field = error instanceof ApiError ? error.field : null
  return (
    <p className="error" role="alert">
      {field ? <strong>{field}: </strong> : null}
      {message}
    </p>
  )
}
