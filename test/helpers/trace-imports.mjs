// `node --import ./trace-imports.mjs …`: the process prints each module it imports (as resolved)
// on stderr as `import: <url>`, so a test can see what a command loads.
import * as nodeModule from 'node:module'

const line = (url) => process.stderr.write(`import: ${url}\n`)

if (typeof nodeModule.registerHooks === 'function') {
  // Node 22.15+ and 23.5+: hooks in this thread. Those `register` runs on its own thread print
  // nothing on Node 24 (the process ends before that thread's output is written).
  nodeModule.registerHooks({
    resolve(specifier, context, next) {
      const resolved = next(specifier, context)
      line(resolved.url)
      return resolved
    },
  })
} else {
  const hooks = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  console.error('import: ' + resolved.url)
  return resolved
}`
  nodeModule.register(`data:text/javascript,${encodeURIComponent(hooks)}`)
}
