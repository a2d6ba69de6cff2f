import { createUser, type UserSummary } from '../store/users.repo.ts'
import type { ServiceContext } from './context.ts'

export { MIN_PASSWORD_LENGTH } from '../store/users.repo.ts'
export type { UserSummary } from '../store/users.repo.ts'

/** Dashboard users. */
export function createUsersService(ctx: ServiceContext) {
  return {
    create(input: { email: string; password: string }): Promise<UserSummary> {
      return createUser(ctx.handle.db, input, ctx.clock.now())
    },
  }
}

export type UsersService = ReturnType<typeof createUsersService>
