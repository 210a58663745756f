// The host instance for the real-PTY measurements, as its own process (as a host is in
// real use: another machine, its own event loop): a WorkspaceSession hosting a
// NodePtyBroker (HostBinding.output publishes every PTY read, through the xterm mirror).
//   node --import tsx bench/terminals/pty-host.ts --url ws://... --token <owner credential> [--flood <bytes>]
// Echo mode: the agent runs `cat` in raw mode, so each keystroke is echoed by the program
// through the PTY (as a shell's line editor does), not by the tty driver.
// Flood mode: the agent waits for one keystroke, then prints <bytes> of `yes` output
// (100-column lines), then FLOOD-DONE: a chatty program such as a build log or `cat`.
// Prints {"ready":true,"agentId":...}, then {"event":...} lines: the host connection's
// status changes and errors, and every 200 ms how far the host has published.
// SIGTERM stops the PTY and the session.
import { parseArgs } from 'node:util'
import { WorkspaceSession } from '@orchard/client'
import { NodePtyBroker } from '@orchard/client/pty'
import { ECHO_COMMAND, floodCommand } from './echo-command.js'

const { values } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' }, flood: { type: 'string' } } })
const flood = values.flood ? Number(values.flood) : 0
const instanceId = flood ? 'bench-pty-flood-host' : 'bench-pty-echo-host'
const say = (line: Record<string, unknown>) => console.log(JSON.stringify(line))
const host = await WorkspaceSession.open({ credential: values.token!, relayUrl: values.url!, instanceId, label: instanceId, connectTimeoutMs: 10_000 })
host.provider.on('status', (status) => say({ event: 'status', status, at: Date.now() }))
host.provider.on('error', (error) => say({ event: 'error', code: error.code, message: error.message, at: Date.now() }))
host.provider.on('stopped', (reason) => say({ event: 'stopped', code: reason.code, message: reason.message, at: Date.now() }))
const broker = new NodePtyBroker()
const binding = host.host(broker)
await host.provider.whenSynced()
const projectId = host.store.addProject(flood ? 'Flood bench' : 'Echo bench', '/tmp/orchard-pty-bench').id
host.store.setProjectHost(projectId, { instanceId, label: instanceId })
await host.provider.whenPersisted()
const agent = await host.spawn(projectId, flood ? 'flood' : 'echo', { options: flood ? floodCommand(flood) : ECHO_COMMAND })
say({ ready: true, agentId: agent.id })
setInterval(() => say({ event: 'published', offset: binding.published(agent.id)?.offset ?? 0, at: Date.now() }), 200).unref()

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  setTimeout(() => process.exit(1), 5_000).unref()
  say({ event: 'published', offset: binding.published(agent.id)?.offset ?? 0, at: Date.now() })
  await broker.stopAll()
  await host.close()
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
