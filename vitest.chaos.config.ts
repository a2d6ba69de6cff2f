import { defineConfig } from 'vitest/config'

/** `npm run test:chaos`: the chaos suite alone (test/chaos/), which the default config leaves out. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    // the CLI the suite spawns runs the compiled dist/ (bin/storeflow.mjs)
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 480_000,
    hookTimeout: 120_000,
  },
})
