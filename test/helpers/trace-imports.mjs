// `node --import ./trace-imports.mjs …`: the process prints each module it imports (ES modules,
// as resolved) on stderr as `import: <url>`, so a test can see what a command loads.
import { register } from 'node:module'

const hooks = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  console.error('import: ' + resolved.url)
  return resolved
}`
register(`data:text/javascript,${encodeURIComponent(hooks)}`)
