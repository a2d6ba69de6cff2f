#!/usr/bin/env node
// Entry point for the `storeflow` command: runs the JavaScript compiled from src/ into dist/
// (`npm run build`, which `npm install` and `npm ci` run as the `prepare` script).
import { existsSync } from 'node:fs'

const entry = new URL('../dist/command-line.js', import.meta.url)
if (!existsSync(entry)) {
  console.error('error: storeflow is not built (no dist/command-line.js); run `npm run build` in its directory')
  process.exit(1)
}
const { runCommandLine } = await import(entry.href)
await runCommandLine(process.argv)
