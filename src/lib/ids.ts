import { randomBytes, randomUUID } from 'node:crypto'

/** Time-ordered id: sortable by creation, unique without coordination. */
export function newId(prefix = ''): string {
  const time = Date.now().toString(36).padStart(9, '0')
  const rand = randomBytes(8).toString('hex')
  return `${prefix}${time}${rand}`
}

export function uuid(): string {
  return randomUUID()
}
