import type { PagedList } from '../api/paged.ts'

/** Under a paged list: how many rows are shown, and a button for the next page while there is one. */
export function ShowMore({ list, noun }: { list: PagedList<unknown>; noun: string }) {
  if (!list.data || list.data.items.length === 0) return null
  return (
    <p className="show-more">
      <span className="muted">
        {list.data.items.length} {noun} shown{list.hasMore ? '' : ' (all)'}
      </span>{' '}
      {list.hasMore ? (
        <button type="button" onClick={list.loadMore} disabled={list.loadingMore}>
          {list.loadingMore ? 'Loading…' : `Show more ${noun}`}
        </button>
      ) : null}
    </p>
  )
}
