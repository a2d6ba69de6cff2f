import { BlockList, isIP } from 'node:net'

/**
 * Loopback, private, link-local, unique-local, multicast and other special ranges: an
 * automation must not be turned into a way to reach the operator's internal network (SSRF)
 * unless they allow it. IPv6 forms that carry an IPv4 address (mapped `::ffff:7f00:1`,
 * compatible `::127.0.0.1`, NAT64 `64:ff9b::7f00:1`, 6to4 `2002:7f00:1::`) are judged by it.
 */
const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6')

export function isPrivateAddress(address: string): boolean {
  const kind = isIP(address)
  if (kind === 4) return blocked.check(address, 'ipv4')
  if (kind !== 6) return false
  const embedded = embeddedIPv4(address)
  if (embedded) return blocked.check(embedded, 'ipv4')
  return blocked.check(address, 'ipv6')
}

/** The IPv4 address an IPv6 address carries, in the forms that route to it; else null. */
function embeddedIPv4(address: string): string | null {
  const words = expandIPv6(address)
  if (!words) return null
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  const zero = (from: number, to: number) => words.slice(from, to).every((w) => w === 0)
  if (zero(0, 5) && words[5] === 0xffff) return v4(words[6]!, words[7]!) // mapped ::ffff:a.b.c.d
  if (zero(0, 6) && (words[6] !== 0 || words[7]! > 1)) return v4(words[6]!, words[7]!) // compatible ::a.b.c.d
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(2, 6)) return v4(words[6]!, words[7]!) // NAT64
  if (words[0] === 0x2002) return v4(words[1]!, words[2]!) // 6to4
  return null
}

/** Eight 16-bit words of an IPv6 address (with `::` and a dotted tail), or null. */
function expandIPv6(address: string): number[] | null {
  let text = address.toLowerCase().split('%')[0]!
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const missing = 8 - left.length - right.length
  if (tail === undefined ? missing !== 0 : missing < 0) return null
  return [...left, ...Array<number>(Math.max(0, missing)).fill(0), ...right]
}
