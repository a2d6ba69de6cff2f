import { z } from 'zod'
import { anchor, code, table } from './markdown.ts'

/**
 * Renders JSON Schema (from `z.toJSONSchema`, or an OpenAPI document) as Markdown a person reads:
 * one table per object (field, type, required, description), nested objects as sub-sections,
 * and shapes documented elsewhere in the same file linked by name instead of repeated.
 */

export type JsonSchema = { [key: string]: unknown }

/** The JSON Schema of a zod schema as callers write it (`io: 'input'`), without the `$schema` line. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema
  return rest
}

export interface NamedShape {
  name: string
  /** the heading anchor of its section in the same file */
  anchor: string
  schema: JsonSchema
}

interface Nested {
  heading: string
  schema: JsonSchema
}

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A shape's identity for linking: its schema without its own description (a field may describe it differently). */
function fingerprint(node: JsonSchema): string {
  const { description: _d, ...rest } = node
  return JSON.stringify(rest)
}

/** anyOf / oneOf / `type: [a, b]` flattened into single-type branches. */
function branches(node: JsonSchema): JsonSchema[] {
  const union = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined
  if (Array.isArray(union)) return union.flatMap(branches)
  if (Array.isArray(node.type)) return (node.type as string[]).map((type) => ({ ...node, type }))
  return [node]
}

/** The description of a node, or of the first branch that has one. */
export function descriptionOf(node: JsonSchema): string {
  if (typeof node.description === 'string') return node.description
  for (const b of branches(node)) if (b !== node && typeof b.description === 'string') return b.description
  return ''
}

function bounds(node: JsonSchema, unit: string): string[] {
  const out: string[] = []
  const min = node.minimum ?? node.exclusiveMinimum
  const max = node.maximum ?? node.exclusiveMaximum
  if (typeof min === 'number' && min !== -SAFE_INTEGER) out.push(`${node.exclusiveMinimum !== undefined ? '>' : '≥'} ${min}${unit}`)
  if (typeof max === 'number' && max !== SAFE_INTEGER) out.push(`${node.exclusiveMaximum !== undefined ? '<' : '≤'} ${max}${unit}`)
  return out
}

function lengths(node: JsonSchema, min: string, max: string, unit: string): string[] {
  const lo = node[min]
  const hi = node[max]
  const noun = (n: number) => (n === 1 ? unit.replace(/s$/, '') : unit)
  if (typeof lo === 'number' && lo === hi) return [`exactly ${lo} ${noun(lo)}`]
  const out: string[] = []
  if (typeof lo === 'number' && lo > 0) out.push(`at least ${lo} ${noun(lo)}`)
  if (typeof hi === 'number') out.push(`at most ${hi} ${noun(hi)}`)
  return out
}

export class ShapeRenderer {
  private readonly named = new Map<string, NamedShape>()

  constructor(named: NamedShape[] = []) {
    for (const shape of named) this.named.set(fingerprint(shape.schema), shape)
  }

  /**
   * A section for an object schema: heading, description, field table, then a sub-section for
   * each nested object that is not a named shape. `path` names nested sections (`order.shipping_address`).
   */
  section(heading: string, level: number, schema: JsonSchema, path: string, intro?: string): string {
    const nested: Nested[] = []
    const parts = [`${'#'.repeat(level)} ${heading}`]
    const text = [intro, descriptionOf(schema)].filter(Boolean).join(' ')
    if (text) parts.push(text)
    parts.push(this.fieldsTable(schema, path, nested))
    for (const n of nested) parts.push(this.section(n.heading, Math.min(level + 1, 6), n.schema, n.heading.replace(/`/g, '')))
    return parts.join('\n\n')
  }

  /** The field table of an object schema; nested unnamed objects are pushed onto `nested`. */
  fieldsTable(schema: JsonSchema, path: string, nested: Nested[] = []): string {
    const properties = isObject(schema.properties) ? schema.properties : {}
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
    const rows = Object.entries(properties).map(([field, raw]) => {
      const node = isObject(raw) ? raw : {}
      const { text, nullable } = this.typeText(node, `${path}.${field}`, nested)
      return [code(field), nullable ? `${text} or null` : text, required.has(field) ? 'yes' : 'no', this.fieldNotes(node)]
    })
    const lines: string[] = []
    if (rows.length > 0) lines.push(table(['field', 'type', 'required', 'description'], rows))
    else lines.push(isObject(schema.additionalProperties) || schema.additionalProperties === undefined ? 'Any JSON object.' : 'No fields.')
    if (rows.length > 0 && isObject(schema.additionalProperties) && Object.keys(schema.additionalProperties).length === 0) {
      lines.push('Other fields are accepted and kept as sent.')
    }
    return lines.join('\n\n')
  }

  /** A readable type: `string`, `list of [line item](#line-item)`, `one of \`a\`, \`b\``, … */
  typeText(node: JsonSchema, path: string, nested: Nested[]): { text: string; nullable: boolean } {
    let nullable = false
    const texts: string[] = []
    for (const b of branches(node)) {
      if (b.type === 'null') {
        nullable = true
        continue
      }
      const text = this.branchText(b, path, nested)
      if (!texts.includes(text)) texts.push(text)
    }
    return { text: texts.length > 0 ? texts.join(' or ') : 'null', nullable }
  }

  /**
   * A one-line sketch for places without room for a table (request and response bodies):
   * `{ items: list of object, next_cursor: string or null }`, named shapes linked.
   */
  inline(node: JsonSchema, depth = 0): string {
    const texts: string[] = []
    let nullable = false
    for (const b of branches(node)) {
      if (b.type === 'null') {
        nullable = true
        continue
      }
      let text: string
      if (this.named.has(fingerprint(b)) || typeof b.$ref === 'string') text = this.branchText(b, '', [])
      else if (b.type === 'object' && isObject(b.properties) && Object.keys(b.properties).length > 0) {
        text =
          depth >= 2
            ? 'object'
            : `{ ${Object.entries(b.properties)
                .map(([k, v]) => `${k}: ${isObject(v) ? this.inline(v, depth + 1) : 'any'}`)
                .join(', ')} }`
      } else if (b.type === 'array' && isObject(b.items)) text = `list of ${this.inline(b.items, depth + 1)}`
      else text = this.branchText(b, '', [])
      if (!texts.includes(text)) texts.push(text)
    }
    return [...texts, ...(nullable ? ['null'] : [])].join(' or ') || 'any JSON value'
  }

  private branchText(b: JsonSchema, path: string, nested: Nested[]): string {
    const named = this.named.get(fingerprint(b))
    if (named) return `[${named.name}](#${named.anchor})`
    if (b.const !== undefined) return b.const === '' ? 'empty string `""`' : code(JSON.stringify(b.const))
    if (Array.isArray(b.enum)) return `one of ${b.enum.map((v) => code(String(v))).join(', ')}`
    if (typeof b.$ref === 'string') {
      const name = b.$ref.split('/').pop() ?? b.$ref
      return `[${name}](#${anchor(name)})`
    }
    switch (b.type) {
      case 'string': {
        if (b.format === 'email') return 'email address'
        if (b.format === 'uri') return 'URL'
        const nonEmpty = b.minLength === 1 && b.maxLength === undefined
        const notes = nonEmpty ? [] : lengths(b, 'minLength', 'maxLength', 'characters')
        if (typeof b.format === 'string') notes.unshift(b.format)
        if (typeof b.pattern === 'string') notes.push(`matching ${code(b.pattern)}`)
        const base = nonEmpty ? 'non-empty string' : 'string'
        return notes.length > 0 ? `${base} (${notes.join(', ')})` : base
      }
      case 'integer':
      case 'number': {
        const notes = bounds(b, '')
        return notes.length > 0 ? `${b.type} ${notes.join(', ')}` : String(b.type)
      }
      case 'boolean':
        return 'boolean'
      case 'array': {
        const items = isObject(b.items) ? this.typeText(b.items, `${path}[]`, nested) : { text: 'any JSON value', nullable: false }
        const count = lengths(b, 'minItems', 'maxItems', 'items')
        return `list of ${items.text}${items.nullable ? ' or null' : ''}${count.length > 0 ? `, ${count.join(', ')}` : ''}`
      }
      case 'object':
        return this.objectText(b, path, nested)
      default:
        return 'any JSON value'
    }
  }

  private objectText(b: JsonSchema, path: string, nested: Nested[]): string {
    if (isObject(b.properties) && Object.keys(b.properties).length > 0) {
      const same = nested.find((n) => fingerprint(n.schema) === fingerprint(b))
      const heading = same?.heading ?? code(path)
      if (!same) nested.push({ heading, schema: b })
      return `[object](#${anchor(heading)})`
    }
    if (isObject(b.additionalProperties) && Object.keys(b.additionalProperties).length > 0) {
      const values = this.typeText(b.additionalProperties, `${path}.*`, nested)
      return `object of ${values.text}${values.nullable ? ' or null' : ''} values`
    }
    return 'object'
  }

  /**
   * The description column: the field's description (a linked shape's own description stays in
   * its section), plus its default when the text does not give it.
   */
  private fieldNotes(node: JsonSchema): string {
    const description =
      typeof node.description === 'string'
        ? node.description
        : ((branches(node).find((b) => typeof b.description === 'string' && !this.named.has(fingerprint(b)))?.description as string | undefined) ?? '')
    const fallback = node.default ?? branches(node).find((b) => b.default !== undefined)?.default
    if (fallback === undefined || /\bdefault\b/i.test(description)) return description
    const text = `Default: ${code(JSON.stringify(fallback))}.`
    return description ? `${description.replace(/[.;]?$/, '.')} ${text}` : text
  }
}
