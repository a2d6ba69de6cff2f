import { countUsers, createUser, deleteUser, listUsers, type UserSummary } from '../store/users.repo.ts'
import type { ServiceContext } from './context.ts'

export { MIN_PASSWORD_LENGTH } from '../store/users.repo.ts'
export type { UserSummary } from '../store/users.repo.ts'

/** Dashboard users. */
export function createUsersService(ctx: ServiceContext) {
  return {
    create(input: { email: string; password: string }): Promise<UserSummary> {
      return createUser(ctx.handle.db, input, ctx.clock.now())
    },

    list(): Promise<UserSummary[]> {
      return listUsers(ctx.handle.db)
    },

    count(): Promise<number> {
      return countUsers(ctx.handle.db)
    },

    /** Deletes the user and signs out every session they hold; false when there is no such user. */
    delete(email: string): Promise<boolean> {
      return deleteUser(ctx.handle.db, email)
    },
  }
}

export type UsersService = ReturnType<typeof createUsersService>
