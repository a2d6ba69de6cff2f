import { type Connector, useConnectorHealth, useConnectors, useDeliveries, useReplayDelivery } from '../../api/store-hooks.ts'
import { currentStore } from '../../api/client.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { StatusBadge } from '../../components/StatusBadge.tsx'
import { Time } from '../../components/Time.tsx'
import { ShowMore } from '../../components/ShowMore.tsx'

/**
 * The address a shop posts its webhooks to, when the server does not say (it does, as
 * webhook_url on STOREFLOW_PUBLIC_URL): `/webhooks/<platform>/<store>` where the dashboard is.
 */
export function webhookUrl(platform: string, store: string): string {
  return `${location.origin}/webhooks/${encodeURIComponent(platform)}/${encodeURIComponent(store)}`
}

export function ConnectorsPage() {
  const connectors = useConnectors()
  const deliveries = useDeliveries()
  const replay = useReplayDelivery()
  return (
    <section aria-labelledby="connectors-heading">
      <h1 id="connectors-heading">Connectors</h1>
      <p className="muted">Add or rotate a connector with `storeflow connectors add` or POST /api/v1/connectors; paste its webhook URL into the shop.</p>
      <ErrorNote error={connectors.error} />
      {connectors.isPending ? <p>Loading…</p> : null}
      {connectors.data && connectors.data.items.length === 0 ? <p>No connectors yet.</p> : null}
      {connectors.data?.items.map((c) => (
        <ConnectorCard key={c.id} connector={c} />
      ))}
      <h2 id="deliveries-heading">Recent deliveries</h2>
      <ErrorNote error={deliveries.error ?? replay.error} />
      {replay.isSuccess ? <p role="status">Replayed.</p> : null}
      {deliveries.data && deliveries.data.items.length === 0 ? <p>No deliveries in the last 30 days.</p> : null}
      {deliveries.data && deliveries.data.items.length > 0 ? (
        <table aria-labelledby="deliveries-heading">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Platform</th>
              <th scope="col">Topic</th>
              <th scope="col">Status</th>
              <th scope="col">Events</th>
              <th scope="col">Error</th>
              <th scope="col">
                <span className="sr-only">Replay</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data.items.map((d) => (
              <tr key={d.id}>
                <td>
                  <Time value={d.received_at} />
                </td>
                <td>{d.platform}</td>
                <td>{d.topic}</td>
                <td>
                  <StatusBadge status={d.status} />
                </td>
                <td>{d.event_ids.length}</td>
                <td>{d.error ?? ''}</td>
                <td>
                  <button type="button" disabled={replay.isPending} onClick={() => replay.mutate(d.id)}>
                    Replay <span className="sr-only">{`${d.topic} ${d.id}`}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ShowMore list={deliveries} noun="deliveries" />
    </section>
  )
}

function ConnectorCard({ connector: c }: { connector: Connector }) {
  const health = useConnectorHealth(c.id)
  const url = c.webhook_url ?? webhookUrl(c.platform, c.store || currentStore())
  const h = health.data
  return (
    <article className="panel" aria-labelledby={`connector-${c.id}`}>
      <h2 id={`connector-${c.id}`}>
        {c.platform} {c.shop_domain ? `· ${c.shop_domain}` : ''}
      </h2>
      <div className="field">
        <label htmlFor={`url-${c.id}`}>Webhook URL to paste into the shop</label>
        <input id={`url-${c.id}`} readOnly value={url} onFocus={(e) => e.target.select()} />
      </div>
      <dl className="facts-grid">
        <dt>Webhook secrets</dt>
        <dd>{c.secret_count}</dd>
        <dt>Shop API token</dt>
        <dd>{c.access_token_set ? 'set' : 'not set'}</dd>
        <dt>Last delivery</dt>
        <dd>
          <Time value={h?.last_delivery_at} />
        </dd>
        <dt>Last 24 hours</dt>
        <dd>{h ? `${h.deliveries_24h} deliveries, ${h.failures_24h} failed, ${h.signature_failures_24h} refused signatures` : '…'}</dd>
        {h?.last_signature_failure_reason ? (
          <>
            <dt>Last refused signature</dt>
            <dd>
              {h.last_signature_failure_reason} (<Time value={h.last_signature_failure_at} />)
            </dd>
          </>
        ) : null}
      </dl>
      <ErrorNote error={health.error} />
    </article>
  )
}
