/** The order the run's trigger is about, as its scope holds it (`order`), or null. */
export function subjectOrder(scope: Record<string, unknown>): { id: string; risk: { score: number; level: string; reasons: string[] } | null } | null {
  const order = scope.order as Record<string, unknown> | null | undefined
  if (!order || order.id == null) return null
  const risk = order.risk as { score: number; level: string; reasons: string[] } | undefined
  return { id: String(order.id), risk: risk && Array.isArray(risk.reasons) ? risk : null }
}
