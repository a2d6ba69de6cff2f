#!/usr/bin/env node
// Entry point for the `storeflow` command: registers tsx so the TypeScript sources run as they are.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
await main(process.argv)
