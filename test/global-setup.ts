import { buildDist } from '../scripts/build-dist.ts'

/** Tests that spawn `storeflow` run dist/: compiled from the sources as they are now, never a stale build. */
export default function setup(): void {
  buildDist()
}
