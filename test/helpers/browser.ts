import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { CLI, REPO_ROOT, type StoreflowProcess, startServe } from './processes.ts'
import { buildWebOnce } from './web-build.ts'

/**
 * What the dashboard's browser tests share: Debian's Chromium and its flags (DEVELOPERS.md;
 * never a downloaded browser), whether it can run here, the CLI they set a data directory up
 * with, and the axe-core check of a page.
 */

export const CHROMIUM = '/usr/bin/chromium'
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
/** screenshots of the main pages, kept as CI artifacts (gitignored) */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts')

/** Chromium runs when installed; under CI it must (a missing browser fails the test instead of skipping it). */
export function browserRunnable(testFile: string): boolean {
  const inCI = process.env.CI === 'true' || process.env.CI === '1'
  const runnable = existsSync(CHROMIUM) || inCI
  if (!runnable) console.warn(`${testFile} skipped: ${CHROMIUM} is missing (apt-get install -y chromium); under CI=true it runs`)
  return runnable
}

/** Runs `storeflow ARGS` on a data directory, silently, and answers its exit code and output. */
export function runCli(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
  secretKey = 'browser-test',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, STOREFLOW_DATA_DIR: dataDir, STOREFLOW_SECRET_KEY: secretKey, STOREFLOW_LOG_LEVEL: 'silent', ...env } },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  )
}

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown }> }>
}
declare const window: { axe: { run(context: unknown, options: unknown): Promise<AxeResult> } }
declare const document: unknown

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A/AA and best practice). */
export async function seriousViolations(page: Page): Promise<Array<{ id: string; impact: string | null; help: string; targets: string[] }>> {
  await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }))
  })
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/** A real `storeflow serve` on a fresh data directory, with an admin key, a dashboard user and Chromium. */
export interface Dashboard {
  dataDir: string
  serve: { proc: StoreflowProcess; url: string }
  browser: Browser
  adminKey: string
}

/**
 * What every dashboard browser test starts from: the web app built once, a migrated data
 * directory, an admin API key (to seed the store through the API), a user to sign in as, a
 * server on a free port and a browser. Close with closeDashboard.
 */
export async function startDashboard(options: {
  name: string
  email: string
  password: string
  secretKey?: string
  env?: Record<string, string>
}): Promise<Dashboard> {
  const secretKey = options.secretKey ?? 'browser-test'
  await buildWebOnce()
  mkdirSync(ARTIFACTS, { recursive: true })
  const dataDir = mkdtempSync(join(tmpdir(), `storeflow-${options.name}-`))
  const must = async (args: string[], env: Record<string, string> = {}) => {
    const result = await runCli(dataDir, args, env, secretKey)
    if (result.code !== 0) throw new Error(`storeflow ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
    return result
  }
  await must(['migrate'])
  const adminKey = (JSON.parse((await must(['keys', 'create', '--scope', 'admin', '--json'])).stdout) as { key: string }).key
  await must(['users', 'create', options.email], { STOREFLOW_ADMIN_PASSWORD: options.password })
  const serve = await startServe([], { STOREFLOW_DATA_DIR: dataDir, STOREFLOW_SECRET_KEY: secretKey, ...options.env })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS })
  return { dataDir, serve, browser, adminKey }
}

export async function closeDashboard(dashboard: Dashboard | undefined): Promise<void> {
  if (!dashboard) return
  await dashboard.browser.close()
  await dashboard.serve.proc.stop()
  rmSync(dashboard.dataDir, { recursive: true, force: true })
}
