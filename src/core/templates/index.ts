export { createLiquidEngine, type TemplateOutput } from './liquid.ts'
export { compileTemplate, renderTemplate, type CompiledTemplate, type CompileOptions } from './compile.ts'
export { formatMoney } from './money-filter.ts'
