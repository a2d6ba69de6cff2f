/**
 * The layers of src/ and the directions imports may take (ARCHITECTURE.md). `npm test` runs this
 * (`npm run lint`); test/architecture.test.ts proves each rule catches a real violation.
 *
 * Lower layers never import upper ones:
 *   lib → contracts → core → plugin-api → actions, triggers, connectors → store, engine → services → http, cli → main
 */

/** every layer with the layers it may import (itself included) */
const LAYERS = {
  lib: ['lib'],
  contracts: ['lib', 'contracts'],
  core: ['lib', 'contracts', 'core'],
  'plugin-api': ['lib', 'contracts', 'core', 'plugin-api'],
  actions: ['lib', 'contracts', 'core', 'plugin-api', 'actions'],
  triggers: ['lib', 'contracts', 'core', 'plugin-api', 'triggers'],
  connectors: ['lib', 'contracts', 'core', 'connectors'],
  engine: ['lib', 'contracts', 'core', 'plugin-api', 'triggers', 'engine'],
  // store implements the engine's ports, so it may read their types and the run lifecycle's statuses (rule below)
  store: ['lib', 'contracts', 'core', 'plugin-api', 'connectors', 'store'],
  services: ['lib', 'contracts', 'core', 'plugin-api', 'actions', 'triggers', 'connectors', 'store', 'engine', 'services', 'config.ts'],
  // the edges see use cases, contracts and utilities only: no SQL, no engine internals
  http: ['lib', 'contracts', 'services', 'http', 'config.ts', 'main.ts'],
  // the edges see use cases, contracts and utilities only (and App's type: rule below)
  cli: ['lib', 'contracts', 'services', 'cli', 'config.ts', 'main.ts'],
}

const layerPath = (layer) => (layer.endsWith('.ts') ? `^src/${layer.replace(/\./g, '\\.')}$` : `^src/${layer}/`)

const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only from: ${allowed.join(', ')}`,
  severity: 'error',
  from: { path: layerPath(layer), pathNot: '\\.test\\.ts$' },
  to: {
    path: '^src/',
    pathNot: [...allowed.map(layerPath), ...(layer === 'store' ? ['^src/engine/ports\\.ts$', '^src/engine/run-status\\.ts$'] : [])],
  },
}))

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'edges-see-the-app-type-only',
      comment: 'http/ and cli/ name main.ts\'s App in types only: the composition root builds them and hands them the app, never the reverse',
      severity: 'error',
      from: { path: '^src/(http|cli)/' },
      to: { path: '^src/main\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sql-in-store-only',
      comment: 'Kysely and the database drivers are used in src/store/ only (services and engine go through repos and ports)',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/store/', '\\.test\\.ts$'] },
      to: { path: '^node_modules/(kysely|better-sqlite3|pg)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'fastify-in-http-only',
      comment: 'only src/http/ knows Fastify',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/http/', '\\.test\\.ts$'] },
      to: { path: '^node_modules/fastify/' },
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other cannot be understood or tested one at a time',
      severity: 'error',
      from: { path: '^src/' },
      // a cycle through `import type` only (the edges naming the composition root's App) is erased at run time
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-tests-in-product',
      comment: 'product code never imports a test or a test helper',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: ['\\.test\\.ts$', '^test/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
}
