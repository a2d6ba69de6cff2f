/**
 * A worker process as `storeflow worker` runs it (createApp + Worker with defaults), over the
 * database in BENCH_WORKER_DATABASE_URL (and schema). Reports its RSS over IPC every 500 ms.
 */
import { loadConfig } from '../src/config.ts'
import { Worker } from '../src/engine/worker.ts'
import { silentLogger } from '../src/lib/logger.ts'
import { createApp } from '../src/main.ts'

const url = process.env.BENCH_WORKER_DATABASE_URL
if (!url || !process.send) throw new Error('rss-worker runs as a forked child with BENCH_WORKER_DATABASE_URL')
const schema = process.env.BENCH_WORKER_SCHEMA
const config = await loadConfig({ databaseUrl: url, dataDir: process.env.BENCH_WORKER_DATA_DIR ?? '.' }, { STOREFLOW_SECRET_KEY: 'bench-secret-key' })
const app = await createApp(config, { log: silentLogger, ...(schema ? { schema } : {}) })
const worker = new Worker(app.engine, silentLogger)
worker.start()
let polls = 0
const timer = setInterval(() => {
  polls++
  process.send!({ rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, polls })
}, 500)
process.on('message', (msg: string) => {
  if (msg !== 'stop') return
  clearInterval(timer)
  void worker
    .stop()
    .then(() => app.close())
    .then(() => process.exit(0))
})
