/**
 * A progress bar on stderr, drawn only when stderr is a terminal (pipes and CI logs stay clean).
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true
  private done = 0
  private lastDraw = 0

  constructor(
    private readonly label: string,
    private total: number,
  ) {}

  add(n: number): void {
    this.done += n
    this.draw(false)
  }

  setTotal(total: number): void {
    this.total = total
  }

  finish(): void {
    this.draw(true)
    if (this.tty) process.stderr.write('\n')
  }

  private draw(force: boolean): void {
    if (!this.tty) return
    const now = Date.now()
    if (!force && now - this.lastDraw < 50) return
    this.lastDraw = now
    const width = Math.max(10, Math.min(40, (process.stderr.columns ?? 80) - this.label.length - 30))
    const ratio = this.total > 0 ? Math.min(1, this.done / this.total) : 1
    const filled = Math.round(ratio * width)
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
    process.stderr.write(`\r${this.label} ${bar} ${String(Math.round(ratio * 100)).padStart(3)}% ${this.done}/${this.total}`)
  }
}
