import { Environment } from '@marcbachmann/cel-js'

/**
 * CEL for conditions. Money is a double; ints from JSON are doubles too, and mixed int/double
 * arithmetic is allowed. A missing field is null and a comparison involving null is false:
 * cel-js raises "No such key" / "no such overload" for those, which we turn into false (for a
 * condition) or null (for a value), as docs/workflows.md promises.
 */
const VARIABLES = ['event', 'trigger', 'customer', 'order', 'cart', 'product', 'steps', 'store', 'now', 'item', 'vars'] as const

function createEnvironment(): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
  for (const name of VARIABLES) env.registerVariable(name, 'dyn')
  const ops = {
    '+': (a: number, b: number) => a + b,
    '-': (a: number, b: number) => a - b,
    '*': (a: number, b: number) => a * b,
    '/': (a: number, b: number) => a / b,
  }
  for (const [op, fn] of Object.entries(ops)) {
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => fn(a, Number(b)))
    env.registerOperator(`int ${op} double`, (a: bigint, b: number) => fn(Number(a), b))
  }
  // docs/workflows.md: a comparison with null is false (so its negation is true), not an error
  for (const op of ['<', '<=', '>', '>=']) {
    for (const type of ['int', 'uint', 'double', 'string', 'bool']) {
      env.registerOperator(`null ${op} ${type}`, () => false)
      env.registerOperator(`${type} ${op} null`, () => false)
    }
  }
  return env
}

/** How deep comprehension macros may nest: two (a list of lists) is as far as a condition needs. */
const MAX_COMPREHENSION_NESTING = 2
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter'])

/** The deepest nesting of comprehension macros in a parsed expression. */
function comprehensionDepth(node: unknown): number {
  if (!node || typeof node !== 'object') return 0
  if (Array.isArray(node)) return node.reduce((max: number, n) => Math.max(max, comprehensionDepth(n)), 0)
  const { op, args } = node as { op?: unknown; args?: unknown }
  const inner = comprehensionDepth(args)
  return op === 'rcall' && Array.isArray(args) && COMPREHENSIONS.has(args[0] as string) ? inner + 1 : inner
}

/**
 * `has(x.y)` and `'key' in map` ask whether a key is present, which the null proxy would always
 * answer yes to: an expression using either (found in its syntax tree, not its text) sees the
 * plain scope, where a missing key is absent (and reading one makes the condition false).
 */
function asksAboutPresence(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some(asksAboutPresence)
  const { op, args } = node as { op?: unknown; args?: unknown }
  if (op === 'in') return true
  if (op === 'call' && Array.isArray(args) && args[0] === 'has') return true
  return asksAboutPresence(args)
}

/**
 * Scope objects seen through a proxy on which a missing key reads as null, so that
 * `customer.no_such_field == null` is true and `!(event.data.missing == "x")` is true.
 * `has(…)` asks whether a key is present, which the proxy would always answer yes to: an
 * expression using it sees the plain scope (and a missing key there makes the condition false).
 */
const proxies = new WeakMap<object, object>()
function nullish(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Map) return value
  if (Array.isArray(value)) return value.map(nullish)
  const hit = proxies.get(value)
  if (hit) return hit
  const proxy = new Proxy(value as Record<string | symbol, unknown>, {
    get(target, key) {
      if (typeof key === 'symbol') return target[key]
      const v = target[key]
      return v === undefined ? null : nullish(v)
    },
    has: () => true,
    getOwnPropertyDescriptor(target, key) {
      return Object.getOwnPropertyDescriptor(target, key) ?? { configurable: true, enumerable: false, writable: true, value: null }
    },
  })
  proxies.set(value, proxy)
  targets.set(proxy, value)
  return proxy
}

/** proxy → the object behind it, so values leaving CEL (for_each items) are plain data again */
const targets = new WeakMap<object, object>()

const env = createEnvironment()

export interface CompiledExpression {
  source: string
  evaluate(scope: Record<string, unknown>): unknown
}

export class CelCompileError extends Error {
  constructor(
    message: string,
    readonly column: number | null,
  ) {
    super(message)
    this.name = 'CelCompileError'
  }
}

/** Parses and type-checks once (at save time); evaluation reuses the parsed form. */
export function compileCel(source: string): CompiledExpression {
  let parsed: ReturnType<Environment['parse']>
  try {
    parsed = env.parse(source)
  } catch (err) {
    throw new CelCompileError(firstLine(err), null)
  }
  const checked = parsed.check()
  if (!checked.valid) throw new CelCompileError(firstLine(checked.error), null)
  const ast = (parsed as unknown as { ast: unknown }).ast
  if (comprehensionDepth(ast) > MAX_COMPREHENSION_NESTING)
    throw new CelCompileError(
      `macros that loop (all, exists, exists_one, map, filter) may nest ${MAX_COMPREHENSION_NESTING} deep at most: each level multiplies the work, and one condition must not hold up the engine`,
      null,
    )
  const strict = asksAboutPresence(ast)
  return {
    source,
    evaluate: (scope) => toPlain(parsed(strict ? scope : (nullish(scope) as Record<string, unknown>))),
  }
}

/** what is left of null semantics after the proxy: a field of a null (`a.missing.deeper`) */
const NULL_SEMANTICS = /No such key|no such overload|null/

/** Evaluates a condition; missing fields and null comparisons make it false, other errors throw. */
export function evaluateCondition(expr: CompiledExpression, scope: Record<string, unknown>): boolean {
  try {
    return expr.evaluate(scope) === true
  } catch (err) {
    if (NULL_SEMANTICS.test(firstLine(err))) return false
    throw err
  }
}

/** Evaluates to a value; a missing field gives null. */
export function evaluateValue(expr: CompiledExpression, scope: Record<string, unknown>): unknown {
  try {
    return expr.evaluate(scope)
  } catch (err) {
    if (NULL_SEMANTICS.test(firstLine(err))) return null
    throw err
  }
}

/**
 * The workflow vars an expression reads, as `vars.NAME` or `vars["NAME"]` (found in its syntax
 * tree, so text inside string literals is no reference); empty when it does not parse.
 */
export function varReferences(source: string): string[] {
  let ast: unknown
  try {
    ast = (env.parse(source) as unknown as { ast: unknown }).ast
  } catch {
    return []
  }
  const names = new Set<string>()
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return
    if (Array.isArray(node)) {
      for (const n of node) visit(n)
      return
    }
    const { op, args } = node as { op?: unknown; args?: unknown }
    if ((op === '.' || op === '[]') && Array.isArray(args)) {
      const [target, key] = args as [{ op?: unknown; args?: unknown } | undefined, unknown]
      if (target?.op === 'id' && target.args === 'vars') {
        if (op === '.' && typeof key === 'string') names.add(key)
        if (op === '[]' && key && typeof key === 'object' && (key as { op?: unknown }).op === 'value') {
          const value = (key as { args?: unknown }).args
          if (typeof value === 'string') names.add(value)
        }
      }
    }
    visit(args)
  }
  visit(ast)
  return [...names]
}

function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value)
  if (value && typeof value === 'object' && targets.has(value)) return targets.get(value)
  if (Array.isArray(value)) return value.map(toPlain)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v)]))
  return value
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.split('\n')[0] ?? message
}
