import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** a young generation at most this large counts as given back (V8 starts at 1 MB per semi-space) */
const SETTLED_BYTES = 4 * 2 ** 20

/**
 * Loading the modules and opening the database grow V8's young generation to its largest (two
 * 16 MB semi-spaces on 64-bit), and V8 gives it back only at a full collection that finds
 * allocation slow, which an idle server never runs: `serve` held about 125 MB idle, 25 of them an
 * empty young generation. Once start-up's allocation is a few seconds behind, one full collection
 * lets V8 shrink it (bench/startup.ts measures the idle RSS). Under load V8 keeps the young
 * generation as it is, so this costs a collection or three, never throughput.
 */
export function settleMemoryAfterStart(delaysMs: number[] = [8_000, 30_000, 120_000]): void {
  const [delay, ...later] = delaysMs
  if (delay === undefined) return
  const timer = setTimeout(() => {
    collectGarbage()
    if (youngGenerationBytes() > SETTLED_BYTES) settleMemoryAfterStart(later)
  }, delay)
  timer.unref()
}

function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0
}

function collectGarbage(): void {
  // the collector is reachable from JavaScript only as a global of contexts made while --expose-gc is set
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  setFlagsFromString('--no-expose-gc')
  gc()
}
