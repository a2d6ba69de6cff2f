/**
 * The figures the analytics API answers (GET /api/v1/analytics/…, docs/insight.md), shared by the
 * server that computes them and the dashboard that shows them (type imports only).
 */

export interface RunFigures {
  started: number
  completed: number
  exited: number
  failed: number
}

export interface MessageFigures {
  sent: number
  delivered: number
  opened: number
  clicked: number
  unsubscribed: number
  bounced: number
}

export interface DailyFigures {
  date: string
  runs: number
  sent: number
  revenue: number
}
