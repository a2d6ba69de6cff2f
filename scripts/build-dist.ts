import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../', import.meta.url))

/**
 * `npm run build` for those that spawn the `storeflow` command (the e2e tests, the benchmarks):
 * bin/storeflow.mjs runs dist/, so dist/ is brought up to date with src/ before anything starts
 * it. Incremental (dist/.tsbuildinfo): nothing changed, nothing emitted. A type error does not
 * stop the build (`npm run typecheck` reports those); the JavaScript is still written.
 */
export function buildDist(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO, encoding: 'utf8' })
  // 2: diagnostics reported, outputs generated
  if (result.status === 0 || result.status === 2) return
  throw new Error(`npm run build failed (tsc exit ${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`)
}
