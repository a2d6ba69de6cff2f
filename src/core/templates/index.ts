export { createLiquidEngine } from './liquid.ts'
export { compileTemplate, renderTemplate, type CompiledTemplate } from './compile.ts'
export { formatMoney } from './money-filter.ts'
