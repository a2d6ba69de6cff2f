import { type FormEvent, useState } from 'react'
import { ApiError } from '../api/client.ts'
import { useSignIn } from '../api/hooks.ts'

export function SignInPage() {
  const signIn = useSignIn()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')

  const submit = (event: FormEvent) => {
    event.preventDefault()
    signIn.mutate({ email, password })
  }
  const error = signIn.error
  const message =
    error instanceof ApiError && error.status === 401
      ? 'Wrong email or password.'
      : error instanceof ApiError && error.status === 429
        ? 'Too many attempts. Wait a minute, then try again.'
        : error instanceof ApiError && error.status === 404
          ? 'This server does not offer sign-in yet.'
          : error
            ? error.message
            : null

  return (
    <main className="signin" id="main">
      <h1>Sign in to storeflow</h1>
      <form onSubmit={submit} aria-describedby={message ? 'signin-error' : undefined}>
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {message ? (
          <p className="error" id="signin-error" role="alert">
            {message}
          </p>
        ) : null}
        <button type="submit" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
