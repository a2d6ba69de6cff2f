export * from './define-action.ts'
export * from './errors.ts'
export * from './services.ts'
export * from './outbound.ts'
