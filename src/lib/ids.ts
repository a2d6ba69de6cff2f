import { randomBytes, randomUUID } from 'node:crypto'

let lastMs = 0
let counter = 0

/**
 * Time-ordered id: sortable by creation (within a process even for ids made in the same
 * millisecond, thanks to a counter), unique without coordination across processes.
 */
export function newId(prefix = ''): string {
  const now = Date.now()
  if (now === lastMs) counter += 1
  else {
    lastMs = now
    counter = 0
  }
  const time = now.toString(36).padStart(9, '0')
  const seq = counter.toString(36).padStart(4, '0')
  return `${prefix}${time}${seq}${randomBytes(6).toString('hex')}`
}

export function uuid(): string {
  return randomUUID()
}
