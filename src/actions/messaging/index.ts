/**
 * What every messaging channel (send_email, send_sms, notify_team) shares: the send-once
 * sequence with its outbox row, the guardrail gate, what a failed hand-over leaves in the outbox,
 * text rendering and the HTTP provider call. Not an action itself: a channel brings its renderer
 * and its transport and calls sendOnce.
 */
export { sendOnce, type MessageContent, type SendOnceOutcome, type SendOnceRequest, type Transport } from './send-once.ts'
export { decideGuardrails, enforceGuardrails, reserveCapSlot } from './admit.ts'
export { providerAnswered, recordSendFailure } from './send-failure.ts'
export { httpFailure, postToProvider } from './http-provider.ts'
export { LIQUID_MARK, renderMaybe, renderVars, withStepVars, withTemplateErrors } from './render-text.ts'
