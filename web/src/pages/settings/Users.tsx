import { useState } from 'react'
import { useSession } from '../../api/hooks.ts'
import { useCreateUser, useDeleteUser, useUsers } from '../../api/store-hooks.ts'
import { ApiError } from '../../api/client.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { Time } from '../../components/Time.tsx'

/** The installation's dashboard users (every store's). */
export function UsersPage() {
  const users = useUsers()
  const create = useCreateUser()
  const remove = useDeleteUser()
  const me = useSession().data?.user.id
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const field = create.error instanceof ApiError ? create.error.field : null
  return (
    <section aria-labelledby="users-heading">
      <h1 id="users-heading">Users</h1>
      <p className="muted">Users belong to the installation: each may sign in and act on every store.</p>
      <ErrorNote error={users.error ?? remove.error} />
      {users.data ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span className="sr-only">Delete</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data.items.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.role}</td>
                <td>
                  <Time value={u.created_at} />
                </td>
                <td>
                  {u.id === me ? (
                    <span className="muted">you</span>
                  ) : (
                    <button
                      type="button"
                      disabled={remove.isPending}
                      onClick={() => {
                        if (window.confirm(`Delete ${u.email}? They are signed out everywhere and can no longer sign in.`)) remove.mutate(u.id)
                      }}
                    >
                      Delete <span className="sr-only">{u.email}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <form
        className="settings-form"
        aria-labelledby="add-user"
        onSubmit={(e) => {
          e.preventDefault()
          create.mutate(
            { email, password },
            {
              onSuccess: () => {
                setEmail('')
                setPassword('')
              },
            },
          )
        }}
      >
        <h2 id="add-user">Add a user</h2>
        <div className="field">
          <label htmlFor="user-email">Email</label>
          <input
            id="user-email"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-invalid={field === 'email' || undefined}
            autoComplete="off"
          />
        </div>
        <div className="field">
          <label htmlFor="user-password">Password</label>
          <input
            id="user-password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={field === 'password' || undefined}
            autoComplete="new-password"
          />
        </div>
        <ErrorNote error={create.error} />
        {create.isSuccess ? <p role="status">Added.</p> : null}
        <div className="actions">
          <button type="submit" disabled={create.isPending}>
            Add user
          </button>
        </div>
      </form>
    </section>
  )
}
