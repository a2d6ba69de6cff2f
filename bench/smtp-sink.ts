/**
 * A local SMTP sink in a child process: accepts every message and counts it (no parsing), so
 * its CPU is not charged to the engine. Reports { port } once listening, then answers 'count'.
 */
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

if (!process.send) throw new Error('smtp-sink runs as a forked child')
let received = 0
let bytes = 0
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  maxClients: 100,
  onData(stream, _session, callback) {
    stream.on('data', (c: Buffer) => (bytes += c.length))
    stream.on('end', () => {
      received++
      callback()
    })
  },
})
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.server.address() as AddressInfo).port }))
process.on('message', (msg: string) => {
  if (msg === 'count') {
    const cpu = process.cpuUsage()
    process.send!({ received, bytes, cpuMs: (cpu.user + cpu.system) / 1000 })
  } else if (msg === 'stop') server.close(() => process.exit(0))
})
