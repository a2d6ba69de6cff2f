import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './processes.ts'

const WEB = join(REPO_ROOT, 'web')
const LOCK = join(WEB, '.build-lock')
const STALE_LOCK_MS = 5 * 60_000

/** The newest modification time among the dashboard's sources (web/ but dist and node_modules). */
function newestSource(dir = WEB): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

function builtAt(): number {
  try {
    return statSync(join(WEB, 'dist', 'index.html')).mtimeMs
  } catch {
    return 0
  }
}

/**
 * `vite build` of web/ unless web/dist is newer than every source. Browser test files run in
 * parallel workers: one builds under a lock directory while the others wait, then find the build
 * fresh (vite refuses a second build at once, and emptying dist under a running test breaks it).
 */
export async function buildWebOnce(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK)
      break
    } catch {
      // another worker builds; a lock older than any build is left over from a killed run
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmdirSync(LOCK)
      } catch {
        // gone meanwhile
      }
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  try {
    if (builtAt() > newestSource()) return
    const vite = join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js')
    const result = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: REPO_ROOT, encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}${result.stderr}`)
  } finally {
    rmdirSync(LOCK)
  }
}
