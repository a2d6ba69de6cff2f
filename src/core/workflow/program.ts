/**
 * A workflow's steps compiled to a flat program: the run's cursor is an index into it, so a
 * run's position survives a crash as one integer plus its loop frames. Jumps replace nesting.
 */
export type Instruction =
  | { op: 'action'; id: string; action: string; with: Record<string, unknown>; next: number }
  | { op: 'if'; id: string; cond: string; then: number; else: number }
  | { op: 'wait'; id: string; duration?: number; until?: string; timezone?: string; next: number }
  | { op: 'wait_for'; id: string; event: string; match?: string; timeout: number; received: number; timedOut: number }
  | { op: 'split'; id: string; variants: Array<{ id: string; weight: number; start: number }> }
  | { op: 'for_each'; id: string; list: string; as: string; body: number; end: number }
  | { op: 'loop_next'; id: string; start: number }
  | { op: 'goto'; to: number }
  | { op: 'exit'; id: string; reason: string }
  | { op: 'end' }

/**
 * Step types as they appear on a run's timeline and in simulate's trace: the control kinds
 * below, or for an action step the action's name (`send_email`, `tag_customer`).
 */
export const CONTROL_STEP_TYPES = ['if', 'wait', 'wait_for', 'split', 'for_each', 'exit'] as const
