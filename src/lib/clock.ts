/**
 * Time in the engine comes from a Clock, so "wait 7 days" is instant and exact in tests.
 * Nothing in src/ outside this file calls Date.now() for engine decisions.
 */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private ms: number

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.ms = new Date(start).getTime()
  }

  now(): Date {
    return new Date(this.ms)
  }

  set(to: Date | string): void {
    this.ms = new Date(to).getTime()
  }

  advance(ms: number): void {
    this.ms += ms
  }
}
