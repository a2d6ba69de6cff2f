import type { z } from 'zod'
import * as contracts from '../../src/contracts/events.ts'
import { EVENT_DATA_SCHEMAS, eventEnvelopeSchema } from '../../src/contracts/events.ts'
import { jsonSchemaOf, ShapeRenderer, type JsonSchema, type NamedShape } from './json-schema.ts'
import { anchor, byText, code, document, generatedBanner, table } from './markdown.ts'

/** `lineItemSchema` → `line item`: the exported schema's name is the shape's name. */
function shapeName(exportName: string): string {
  return exportName
    .replace(/Schema$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
}

function isZod(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function'
}

/** docs/event-types.md: the envelope and every event type's `data`, from src/contracts/events.ts. */
export function eventTypesDoc(): string {
  // every exported data shape, by its export name; the envelope has its own section
  const exported = (Object.entries(contracts) as Array<[string, unknown]>)
    .flatMap(([exportName, value]) =>
      exportName.endsWith('Schema') && exportName !== 'eventEnvelopeSchema' && isZod(value) ? [{ name: shapeName(exportName), schema: value }] : [],
    )
    .sort(byText((s) => s.name))
  const named: NamedShape[] = exported.map((s) => ({ name: s.name, anchor: anchor(s.name), schema: jsonSchemaOf(s.schema) }))
  const renderer = new ShapeRenderer(named)

  const types = Object.keys(EVENT_DATA_SCHEMAS).sort() as Array<keyof typeof EVENT_DATA_SCHEMAS>
  // a type's data is a named shape (by identity), any object, or an unnamed shape of its own
  const unnamed = new Map<string, { types: string[]; schema: JsonSchema }>()
  const rows = types.map((type) => {
    const schema: z.ZodType = EVENT_DATA_SCHEMAS[type]
    const shape = exported.find((s) => s.schema === schema)
    if (shape) return [code(type), `[${shape.name}](#${anchor(shape.name)})`]
    const json = jsonSchemaOf(schema)
    if (!json.properties || Object.keys(json.properties).length === 0) return [code(type), 'any JSON object']
    const key = JSON.stringify(json)
    const group = unnamed.get(key) ?? { types: [], schema: json }
    group.types.push(type)
    unnamed.set(key, group)
    return [code(type), `see [${type}](#${anchor(`${group.types[0]} data`)})`]
  })

  const envelope = jsonSchemaOf(eventEnvelopeSchema)
  return document([
    generatedBanner(['src/contracts/events.ts']),
    '# Event types and their data',
    "Every event is checked against its envelope and its type's `data` shape before anything of it is stored; an event that fails gets 400 naming the field. How events arrive, idempotency and historical import: [events.md](events.md). Size and depth limits: [limits.md](limits.md).",
    'Conventions: ids are the shop\'s ids, sent as strings or integers and kept as strings. Money is a JSON number in major units (`450.0`) or a numeric string (`"450.00"`), kept exact, and a double in conditions. Times are ISO-8601 with a zone and stored in UTC. Field names are snake_case, like the shops that send them.',
    renderer.section('The envelope', 2, envelope, 'event', 'The event itself, as `POST /api/v1/events` and `storeflow events send` take it.'),
    '## Types',
    `A type not listed here is refused, except \`raw.*\` types (a shop topic storeflow does not map), whose \`data\` may be any object.`,
    table(['type', 'data'], rows),
    '## Shapes',
    ...named.map((shape) => renderer.section(shape.name, 3, shape.schema, shape.name)),
    ...[...unnamed.values()].map((group) =>
      renderer.section(`${group.types[0]} data`, 3, group.schema, group.types[0]!, `The data of ${group.types.map(code).join(', ')}.`),
    ),
  ])
}
