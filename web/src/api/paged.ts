import { type InfiniteData, useInfiniteQuery } from '@tanstack/react-query'
import { api, query } from './client.ts'
import type { Page } from './types.ts'

/** Rows a list asks for at a time. */
export const PAGE_SIZE = 100

/** A list the API pages with `?cursor=&limit=`: the pages loaded so far, flattened, and the way to the next. */
export interface PagedList<T> {
  /** every row loaded so far, newest first; `next_cursor` is the last page's */
  data: Page<T> | undefined
  error: unknown
  isPending: boolean
  hasMore: boolean
  loadingMore: boolean
  loadMore: () => void
}

/**
 * A list of `path` with `params`, `PAGE_SIZE` rows at a time: the first page shows at once, "Show
 * more" asks for the next page by the last one's `next_cursor`. With `refetchInterval` (live
 * lists) TanStack asks again for every loaded page in order, each with the cursor the fresh page
 * before it gave, so new rows arriving at the top push rows down without gaps or repeats.
 */
export function usePagedList<T>(
  queryKey: unknown[],
  path: string,
  params: Record<string, string | number | undefined>,
  refetchInterval?: number,
): PagedList<T> {
  const result = useInfiniteQuery<Page<T>, Error, InfiniteData<Page<T>, string | null>, unknown[], string | null>({
    queryKey,
    queryFn: ({ pageParam, signal }) => api<Page<T>>(`${path}${query({ ...params, limit: PAGE_SIZE, cursor: pageParam ?? undefined })}`, { signal }),
    initialPageParam: null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    ...(refetchInterval ? { refetchInterval } : {}),
  })
  const pages = result.data?.pages
  const data = pages ? { items: pages.flatMap((p) => p.items), next_cursor: pages[pages.length - 1]?.next_cursor ?? null } : undefined
  return {
    data,
    error: result.error,
    isPending: result.isPending,
    hasMore: result.hasNextPage,
    loadingMore: result.isFetchingNextPage,
    loadMore: () => void result.fetchNextPage(),
  }
}
