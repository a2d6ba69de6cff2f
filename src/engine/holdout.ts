import { createHash } from 'node:crypto'

/** `"10%"` or `10` → 0.1; absent → 0 */
export function holdoutShare(holdout: string | number | undefined): number {
  if (holdout === undefined) return 0
  const n = typeof holdout === 'number' ? holdout : Number(holdout.replace('%', ''))
  return Math.min(1, Math.max(0, n / 100))
}

/**
 * Deterministic assignment: the same customer is always in the same group for a workflow, so
 * re-entries do not leak between treated and control.
 */
export function inHoldout(subject: string, workflowId: string, share: number): boolean {
  if (share <= 0) return false
  return unitHash(`${workflowId}:${subject}`) < share
}

/** A stable number in [0, 1) from a string. */
export function unitHash(text: string): number {
  const digest = createHash('sha256').update(text).digest()
  return digest.readUInt32BE(0) / 2 ** 32
}
