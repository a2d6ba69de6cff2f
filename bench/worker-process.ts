/**
 * A worker process as `storeflow worker` runs it (createApp, then the workers service's Worker
 * with its defaults), over the database in BENCH_WORKER_DATABASE_URL (and schema). Says 'ready'
 * once started; on 'stop' lets in-flight steps finish and exits.
 */
import { loadConfig } from '../src/config.ts'
import { silentLogger } from '../src/lib/logger.ts'
import { createApp } from '../src/main.ts'

const url = process.env.BENCH_WORKER_DATABASE_URL
if (!url || !process.send) throw new Error('worker-process runs as a forked child with BENCH_WORKER_DATABASE_URL')
const schema = process.env.BENCH_WORKER_SCHEMA
const config = await loadConfig({ databaseUrl: url, dataDir: process.env.BENCH_WORKER_DATA_DIR ?? '.' }, { STOREFLOW_SECRET_KEY: 'bench-secret-key' })
const app = await createApp(config, { log: silentLogger, ...(schema ? { schema } : {}) })
const worker = app.services.workers.create()
worker.start()
process.send('ready')
process.on('message', (msg: string) => {
  if (msg !== 'stop') return
  void worker
    .stop()
    .then(() => app.close())
    .then(() => process.exit(0))
})
