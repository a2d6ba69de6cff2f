#!/usr/bin/env node
// Entry point for the `storeflow` command: registers tsx so the TypeScript sources run as they are.
import { register } from 'tsx/esm/api'

register()
const { runCommandLine } = await import('../src/main.ts')
await runCommandLine(process.argv)
