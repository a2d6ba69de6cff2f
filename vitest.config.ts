import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // the chaos suite runs on its own: npm run test:chaos (vitest.chaos.config.ts)
    exclude: [...configDefaults.exclude, 'test/chaos/**'],
    // the CLI the e2e tests spawn runs the compiled dist/ (bin/storeflow.mjs)
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests spawn real processes; two cores do not want more than two files at once
    maxWorkers: 2,
    // expect.poll waits for what a live page or a process shows; its default second is too short
    // on a loaded two-core machine (a run appearing on the dashboard took longer under CI load)
    expect: { poll: { timeout: 10_000 } },
  },
})
