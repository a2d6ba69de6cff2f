import { errorMessage } from '../lib/errors.ts'
import type { App } from '../main.ts'

/**
 * What `serve` (and so `npm start`) says about signing in to the dashboard, or null when a user
 * exists. With no user at all and both STOREFLOW_ADMIN_EMAIL and STOREFLOW_ADMIN_PASSWORD set, it
 * creates that user first; it never adds a second user nor changes a password.
 */
export async function dashboardLogin(app: App, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if ((await app.services.users.count()) > 0) return null
  const email = env.STOREFLOW_ADMIN_EMAIL
  const password = env.STOREFLOW_ADMIN_PASSWORD
  if (email && password) {
    try {
      const user = await app.services.users.create({ email, password })
      return `dashboard login: ${user.email} (created from STOREFLOW_ADMIN_EMAIL, password from STOREFLOW_ADMIN_PASSWORD)`
    } catch (err) {
      return `dashboard login: none; STOREFLOW_ADMIN_EMAIL could not be created: ${errorMessage(err)}`
    }
  }
  return 'dashboard login: no user yet; create one with `npx storeflow users create EMAIL` (or set STOREFLOW_ADMIN_EMAIL and STOREFLOW_ADMIN_PASSWORD and start again)'
}
