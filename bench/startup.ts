/**
 * Start-up as a user meets it, from the compiled dist/ that bin/storeflow.mjs runs: the wall time
 * of `storeflow --help` (and of subcommands' help) beside `node -e ""` timed in the same rounds,
 * and the RSS of an idle `storeflow serve` beside a bare Node process's.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { round } from './lib/env.ts'
import { procStatusMb } from './rss.ts'

const BIN = fileURLToPath(new URL('../bin/storeflow.mjs', import.meta.url))

/** the command lines timed; the first is the headline figure */
export const HELP_COMMANDS = [['--help'], ['events', 'send', '--help'], ['serve', '--help']]

export interface StartupResult {
  rounds: number
  /** median wall time of `node -e ""`: what no command line can beat */
  node_bare_ms: number
  /** median wall time per command line, keyed by its arguments */
  help_ms: Record<string, number>
  /** a bare Node process (a timer keeps it alive), 2 s after it started */
  node_bare_rss_mb: number
  /** spawn → "listening on" */
  serve_listening_ms: number
  /** 2 s after listening, before the young generation is given back */
  serve_rss_after_listen_mb: number
  /** after `idle_seconds` of idling */
  serve_idle_rss_mb: number
  idle_seconds: number
}

function wallMs(args: string[], cwd: string): number {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(cwd) })
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return ms
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function childEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, STOREFLOW_DATA_DIR: dir, STOREFLOW_SECRET_KEY: 'bench-secret-key', STOREFLOW_LOG_LEVEL: 'warn' }
  for (const name of ['DATABASE_URL', 'SMTP_URL', 'NODE_OPTIONS']) delete env[name]
  return env
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The RSS of a process started with `args` at each of `samplesAtMs` after it printed `ready` (without one: after it spawned). */
async function idleRss(args: string[], dir: string, samplesAtMs: number[], ready?: RegExp): Promise<{ readyMs: number; rss: number[] }> {
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { cwd: dir, env: childEnv(dir), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  try {
    if (ready) {
      while (!ready.test(out)) {
        if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${child.exitCode}: ${out.slice(-1000)}`)
        if (performance.now() - t0 > 120_000) throw new Error(`${args.join(' ')} did not print ${ready} within 120 s`)
        await sleep(20)
      }
    }
    const readyAt = performance.now()
    const rss: number[] = []
    for (const at of samplesAtMs) {
      await sleep(Math.max(0, at - (performance.now() - readyAt)))
      rss.push(round(procStatusMb(child.pid!, 'VmRSS')))
    }
    return { readyMs: Math.round(readyAt - t0), rss }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
}

export async function benchStartup(rounds: number, idleSeconds: number): Promise<StartupResult> {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-bench-startup-'))
  try {
    // one untimed run each: the disk cache is warm for every timed one
    wallMs(['-e', ''], dir)
    for (const args of HELP_COMMANDS) wallMs([BIN, ...args], dir)
    // interleaved, so load on the machine falls on the ceiling and the figures alike
    const bare: number[] = []
    const help = HELP_COMMANDS.map(() => [] as number[])
    for (let i = 0; i < rounds; i++) {
      bare.push(wallMs(['-e', ''], dir))
      for (const [j, args] of HELP_COMMANDS.entries()) help[j]!.push(wallMs([BIN, ...args], dir))
    }
    const node = await idleRss(['-e', 'setInterval(() => {}, 1000)'], dir, [2000])
    const serve = await idleRss([BIN, 'serve', '--port', '0'], dir, [2000, idleSeconds * 1000], /listening on/)
    return {
      rounds,
      node_bare_ms: Math.round(median(bare)),
      help_ms: Object.fromEntries(HELP_COMMANDS.map((args, j) => [args.join(' '), Math.round(median(help[j]!))])),
      node_bare_rss_mb: node.rss[0]!,
      serve_listening_ms: serve.readyMs,
      serve_rss_after_listen_mb: serve.rss[0]!,
      serve_idle_rss_mb: serve.rss[1]!,
      idle_seconds: idleSeconds,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
