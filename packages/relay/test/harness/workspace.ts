/**
 * A relay core plus sessions on it over the in-memory transport: fast, and the relay's
 * clock and storage can be controlled (restarts reuse the same storage object).
 */
import { WorkspaceSession } from '@orchard/client'
import { MemoryStorage, RelayCore, type RelayLimits } from '@orchard/relay'
import { memoryTransport } from './memory-transport.js'

export interface TestWorkspace {
  core: RelayCore
  storage: MemoryStorage
  workspaceId: string
  ownerCredential: string
  /** Added to the relay's wall clock (tests step it). */
  clock: { offset: number }
  sessions: WorkspaceSession[]
  session(options?: { credential?: string; instanceId?: string; label?: string }): Promise<WorkspaceSession>
  member(role: 'owner' | 'editor' | 'viewer', name: string): Promise<string>
  /** A relay restart: the core stops and a new one opens the same storage. */
  restart(): Promise<void>
  close(): Promise<void>
}

export async function testWorkspace(limits: Partial<RelayLimits> = {}): Promise<TestWorkspace> {
  const storage = new MemoryStorage()
  const clock = { offset: 0 }
  const open = () =>
    new RelayCore({
      storage: Object.assign(Object.create(storage) as MemoryStorage, { close: async () => undefined }),
      limits: { awarenessIntervalMs: 0, unloadAfterMs: 60_000, ...limits },
      now: () => Date.now() + clock.offset,
      logger: { info: () => {}, error: (m) => (process.env.ORCHARD_DEBUG ? console.error(m) : undefined) }
    })
  const ws: TestWorkspace = {
    core: open(),
    storage,
    workspaceId: '',
    ownerCredential: '',
    clock,
    sessions: [],
    async session(options = {}) {
      const session = await WorkspaceSession.open({
        credential: options.credential ?? ws.ownerCredential,
        relayUrl: 'memory://relay',
        transport: () => memoryTransport(ws.core)(),
        instanceId: options.instanceId ?? `instance-${ws.sessions.length + 1}`,
        label: options.label ?? `label-${ws.sessions.length + 1}`
      })
      ws.sessions.push(session)
      return session
    },
    async member(role, name) {
      return (await ws.core.auth.addMember(ws.workspaceId, name, role)).credential
    },
    async restart() {
      await ws.core.close()
      ws.core = open()
    },
    async close() {
      for (const session of ws.sessions.splice(0)) await session.close()
      await ws.core.close()
    }
  }
  const created = await ws.core.createWorkspace('Coordination', 'Ana')
  ws.workspaceId = created.workspace.id
  ws.ownerCredential = created.credential
  return ws
}
