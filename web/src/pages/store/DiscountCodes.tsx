import { useDiscountCodes } from '../../api/store-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { Time } from '../../components/Time.tsx'
import { ShowMore } from '../../components/ShowMore.tsx'

export function DiscountCodesPage() {
  const codes = useDiscountCodes()
  return (
    <section aria-labelledby="codes-heading">
      <h1 id="codes-heading">Discount codes</h1>
      <ErrorNote error={codes.error} />
      {codes.isPending ? <p>Loading…</p> : null}
      {codes.data && codes.data.items.length === 0 ? <p>No discount codes yet: the create_discount action makes them.</p> : null}
      {codes.data && codes.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Kind</th>
              <th scope="col">Value</th>
              <th scope="col">Minimum spend</th>
              <th scope="col">Used</th>
              <th scope="col">Expires</th>
              <th scope="col">Customer</th>
              <th scope="col">Workflow</th>
            </tr>
          </thead>
          <tbody>
            {codes.data.items.map((c) => (
              <tr key={c.code}>
                <td>
                  <code>{c.code}</code>
                </td>
                <td>{c.kind}</td>
                <td>{c.kind === 'percent' ? `${c.value}%` : c.kind === 'free_shipping' ? '—' : c.value}</td>
                <td>{c.min_spend ?? '—'}</td>
                <td>
                  {c.used}
                  {c.usage_limit === null ? '' : ` of ${c.usage_limit}`}
                </td>
                <td>
                  <Time value={c.expires_at} />
                </td>
                <td>{c.customer_id ?? '—'}</td>
                <td>{c.workflow_id ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={codes} noun="codes" />
    </section>
  )
}
