import { type FormEvent, useState } from 'react'
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { ApiError } from '../../api/client.ts'
import { type Forecast, useForecast, useInventory, useSetReorderPoint } from '../../api/store-hooks.ts'
import { ErrorNote } from '../../components/ErrorNote.tsx'
import { Link } from '../../router.tsx'

/** Every SKU with its stock, demand, days of cover and reorder point, fewest days of cover first. */
export function InventoryPage() {
  const inventory = useInventory()
  return (
    <section aria-labelledby="inventory-heading">
      <h1 id="inventory-heading">Inventory</h1>
      <ErrorNote error={inventory.error} />
      {inventory.isPending ? <p>Loading…</p> : null}
      {inventory.data && inventory.data.items.length === 0 ? <p>No SKUs yet: inventory and orders with SKUs fill this list.</p> : null}
      {inventory.data && inventory.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Available</th>
              <th scope="col">Demand / day</th>
              <th scope="col">Days of cover</th>
              <th scope="col">Reorder point</th>
              <th scope="col">Suggested order</th>
              <th scope="col">Method</th>
            </tr>
          </thead>
          <tbody>
            {inventory.data.items.map((f) => (
              <tr key={f.sku} className={f.available <= f.reorder_point ? 'row-warn' : undefined}>
                <td>
                  <Link to={`/inventory/${encodeURIComponent(f.sku)}`}>{f.sku}</Link>
                </td>
                <td>{f.available}</td>
                <td>{f.daily_demand.toFixed(2)}</td>
                <td>{f.days_of_cover === null ? '—' : f.days_of_cover.toFixed(1)}</td>
                <td>{f.reorder_point}</td>
                <td>{f.suggested_quantity}</td>
                <td>{f.method}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}

/** One SKU's forecast: expected stock day by day against the reorder point, and the numbers. */
export function ForecastPage({ sku }: { sku: string }) {
  const [horizon, setHorizon] = useState(28)
  const forecast = useForecast(sku, horizon)
  return (
    <section aria-labelledby="forecast-heading">
      <p>
        <Link to="/inventory">← Inventory</Link>
      </p>
      <h1 id="forecast-heading">Forecast for {sku}</h1>
      <div className="filters">
        <label htmlFor="horizon">Days ahead</label>
        <select id="horizon" value={horizon} onChange={(e) => setHorizon(Number(e.target.value))}>
          {[14, 28, 56, 90].map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={forecast.error} />
      {forecast.isPending ? <p>Loading…</p> : null}
      {forecast.data ? <ForecastView f={forecast.data} /> : null}
    </section>
  )
}

function ForecastView({ f }: { f: Forecast }) {
  // the stock expected at the end of each day if nothing arrives, next to the demand forecast
  let stock = f.available
  const data = f.forecast.map((d) => {
    stock -= d.quantity
    return { date: d.date, demand: Number(d.quantity.toFixed(2)), stock: Number(Math.max(stock, 0).toFixed(2)) }
  })
  return (
    <>
      <dl className="facts-grid">
        <dt>Available now</dt>
        <dd>{f.available}</dd>
        <dt>Demand per day</dt>
        <dd>{f.daily_demand.toFixed(2)}</dd>
        <dt>Days of cover</dt>
        <dd>{f.days_of_cover === null ? 'nothing expected to sell' : f.days_of_cover.toFixed(1)}</dd>
        <dt>Reorder point</dt>
        <dd>{f.reorder_point}</dd>
        <dt>Suggested order</dt>
        <dd>{f.suggested_quantity}</dd>
        <dt>Method</dt>
        <dd>{f.method}</dd>
      </dl>
      <figure className="chart" data-testid="forecast-chart">
        <figcaption>Expected stock (if nothing arrives) and daily demand, with the reorder point at {f.reorder_point}</figcaption>
        <ResponsiveContainer width="100%" height={260}>
          <LineChart data={data} accessibilityLayer>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="date" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <ReferenceLine
              y={f.reorder_point}
              stroke="#b91c1c"
              strokeDasharray="6 3"
              label={{ value: `reorder point ${f.reorder_point}`, position: 'insideTopRight' }}
            />
            <Line type="monotone" dataKey="stock" name="expected stock" stroke="#1d4ed8" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="demand" name="demand" stroke="#15803d" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </figure>
      <ReorderPointForm sku={f.sku} current={f.reorder_point} />
      <details>
        <summary>The forecast as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Demand</th>
              <th scope="col">Expected stock</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.date}>
                <td>{d.date}</td>
                <td>{d.demand}</td>
                <td>{d.stock}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  )
}

/** A manual reorder point for the SKU, or back to the forecast's own. */
function ReorderPointForm({ sku, current }: { sku: string; current: number }) {
  const save = useSetReorderPoint()
  const [value, setValue] = useState(String(current))
  const error = save.error instanceof ApiError ? save.error : null
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const n = Number(value)
    // not a number goes as typed: the server answers naming reorder_point
    save.mutate({ sku, reorder_point: value.trim() === '' ? null : Number.isFinite(n) ? n : value })
  }
  return (
    <form className="filters" aria-label="Reorder point" onSubmit={submit} noValidate>
      <label htmlFor="reorder-point">Reorder point (units; empty: the forecast's)</label>
      <input
        id="reorder-point"
        inputMode="numeric"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        aria-invalid={error?.field === 'reorder_point' || undefined}
        aria-describedby={error ? 'reorder-point-error' : undefined}
      />
      <button type="submit" disabled={save.isPending}>
        Set reorder point
      </button>
      {error ? (
        <span id="reorder-point-error" className="error" role="alert">
          {error.message}
        </span>
      ) : null}
      {save.isSuccess ? <span role="status">Saved</span> : null}
    </form>
  )
}
