#!/usr/bin/env node
// Runs a TypeScript file (benchmarks, scripts) with tsx registered: `node bin/run-ts.mjs FILE [ARGS…]`.
import { register } from 'tsx/esm/api'
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

register()
const file = process.argv[2]
if (!file) {
  console.error('usage: run-ts FILE [ARGS…]')
  process.exit(2)
}
process.argv.splice(1, 1)
await import(pathToFileURL(resolve(file)).href)
