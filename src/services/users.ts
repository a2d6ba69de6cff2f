import { countUsers, createUser, deleteUser, listUsers, type UserSummary } from '../store/users.repo.ts'
import { UserError } from '../lib/errors.ts'
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

    /**
     * The dashboard's delete (DELETE /api/v1/users/:id): the user and their sessions go. Not the
     * signed-in user themself, so the dashboard never locks out the one using it (the CLI's
     * `users delete` can); 404 for an id no user has.
     */
    async remove(id: string, signedInUserId: string): Promise<void> {
      if (id === signedInUserId)
        throw new UserError('you cannot delete the user you are signed in as; another user can, or `storeflow users delete EMAIL`', {
          code: 'conflict',
          details: { field: 'id' },
        })
      const user = (await listUsers(ctx.handle.db)).find((u) => u.id === id)
      if (!user || !(await deleteUser(ctx.handle.db, user.email))) throw new UserError(`no user with id "${id}"`, { code: 'not_found' })
    },
  }
}

export type UsersService = ReturnType<typeof createUsersService>
