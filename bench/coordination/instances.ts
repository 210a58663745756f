// Orchard instances in a child process, driven over stdin/stdout with one JSON object per
// line (like packages/relay/test/fixtures/instance-child.mjs, but K sessions per process).
//   env ORCHARD_RELAY_URL, ORCHARD_CREDENTIALS (comma-separated: one session per entry; an
//   entry may repeat), ORCHARD_PREFIX (instance ids are <prefix>-<i>)
// Commands: {id, cmd: 'spawn', i, projectId, name, onExisting} | {id, cmd: 'counts'} |
// {id, cmd: 'ping'} | {id, cmd: 'exit'}. Every answer is {id, ok, ...}.
import { createInterface } from 'node:readline'
import { closeSessions, openSessions, selfCpuMs, type CountedSession } from './common.js'

const relayUrl = process.env.ORCHARD_RELAY_URL
const credentials = (process.env.ORCHARD_CREDENTIALS ?? '').split(',').filter(Boolean)
const prefix = process.env.ORCHARD_PREFIX ?? 'child'
if (!relayUrl || credentials.length === 0) throw new Error('instances.ts: set ORCHARD_RELAY_URL and ORCHARD_CREDENTIALS')

const reply = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n')

// Sessions sharing a credential are opened together; distinct credentials one group each.
const sessions: CountedSession[] = []
const groups = new Map<string, number[]>()
credentials.forEach((c, i) => groups.set(c, [...(groups.get(c) ?? []), i]))
for (const [credential, indexes] of groups) {
  const opened = await openSessions({ relayUrl, credential, count: indexes.length, prefix: `${prefix}-g${sessions.length}` })
  sessions.push(...opened)
}
reply({ ready: true, sessions: sessions.length, pid: process.pid })

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { id: number; cmd: string; [key: string]: unknown }
  try {
    if (command.cmd === 'spawn') {
      const s = sessions[Number(command.i ?? 0)]!
      const agent = await s.session.spawn(String(command.projectId), String(command.name), {
        ...(command.onExisting ? { onExisting: command.onExisting as 'reuse' | 'suffix' } : {}),
      })
      reply({ id: command.id, ok: true, agentId: agent.id, name: agent.name, status: agent.status })
    } else if (command.cmd === 'counts') {
      reply({ id: command.id, ok: true, cpuMs: selfCpuMs(), counts: sessions.map((s) => s.counts) })
    } else if (command.cmd === 'ping') {
      reply({ id: command.id, ok: true })
    } else if (command.cmd === 'exit') {
      await closeSessions(sessions)
      reply({ id: command.id, ok: true })
      process.exit(0)
    } else {
      reply({ id: command.id, ok: false, message: `unknown command ${command.cmd}` })
    }
  } catch (error) {
    reply({ id: command.id, ok: false, code: (error as { code?: string }).code, message: (error as Error).message })
  }
}
