// Writes the generated reference under docs/ (`npm run docs`); test/docs.test.ts fails when it is stale.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateDocs } from './docs/generate.ts'

const DOCS = fileURLToPath(new URL('../docs/', import.meta.url))

mkdirSync(DOCS, { recursive: true })
for (const [name, content] of Object.entries(await generateDocs())) {
  writeFileSync(join(DOCS, name), content)
  console.log(`wrote docs/${name}`)
}
