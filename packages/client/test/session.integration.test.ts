/**
 * WorkspaceSession against a real relay process, as an app uses it: the client's own tests
 * of its SESSION, ROLE and HOST rules (the relay's tests cover the relay's side).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { WorkspaceSession, type ActivityEntry, type BrokerHost, type SpawnRequest } from '@orchard/client'
import { WriteRefusedError } from '@orchard/workspace'
import * as Y from 'yjs'
import { tempDir } from '@orchard/workspace/testing'
import { startRelayChild, type RelayChild } from './harness/relay.js'

let relay: RelayChild
let owner: WorkspaceSession
const cleanups: Array<() => void | Promise<void>> = []

beforeAll(async () => {
  relay = await startRelayChild()
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, instanceId: 'owner', label: 'owner-laptop' })
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
afterAll(async () => {
  await owner.close()
  await relay.close()
})

async function joined(role: 'editor' | 'viewer', name: string, file?: string): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.join(await owner.createInvite(role), { name, instanceId: name, ...(file ? { file } : {}) })
  cleanups.push(() => session.close())
  return session
}

describe('WorkspaceSession (client, real relay)', () => {
  it('[SESSION-1] [SESSION-2] join stores the credential in this projects.json only; open reuses it and the instance id', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const file = join(dir, 'projects.json')
    const ben = await joined('editor', 'ben', file)
    ben.store.addProject('Shared', '/src/shared')
    await ben.provider.whenPersisted()
    await ben.close()
    cleanups.pop()
    const text = readFileSync(file, 'utf8')
    expect(text).toContain('orc_m.') // the member credential, in Pear's relayWorkspace record
    // The shared doc never holds it: what the owner sees of the workspace has no credential.
    await vi.waitFor(() => expect(owner.store.loadStore().projects.map((project) => project.name)).toContain('Shared'))
    const credential = ben.store.getRelayWorkspaceRecord()?.authKey as string
    expect(credential).toMatch(/^orc_m\./)
    expect(Buffer.from(Y.encodeStateAsUpdate(owner.store.doc)).toString('latin1')).not.toContain(credential)
    const again = await WorkspaceSession.open({ file })
    cleanups.push(() => again.close())
    expect(again.instanceId).toBe('ben')
    expect(again.memberId).toBe(ben.memberId)
    expect(existsSync(file)).toBe(true)
  })

  it('[SESSION-3] [ROLE-3] a downgrade to viewer reaches the live session (role event), and its edits are then refused locally in the relay\'s words', async () => {
    const carol = await joined('editor', 'carol')
    const roles: string[] = []
    carol.on('role', (role) => roles.push(role))
    await owner.setMemberRole(carol.memberId, 'viewer')
    await vi.waitFor(() => expect(roles).toEqual(['viewer']), { timeout: 5_000 })
    expect(carol.role).toBe('viewer')
    expect(() => carol.store.addProject('Nope', '/nope')).toThrow(WriteRefusedError)
    expect(carol.store.loadStore().projects.map((project) => project.name)).not.toContain('Nope')
  })

  it('[SESSION-4] presence lists every instance with the identity the relay stamped, self marked, and what each shares', async () => {
    const dan = await joined('editor', 'dan')
    dan.presence.set({ projectId: 'p1' })
    await vi.waitFor(() => expect(owner.presence.list().find((entry) => entry.instanceId === 'dan')?.state).toMatchObject({ projectId: 'p1' }), { timeout: 5_000 })
    const seen = owner.presence.list().find((entry) => entry.instanceId === 'dan')
    expect(seen).toMatchObject({ name: 'dan', role: 'editor', self: false, memberId: dan.memberId })
    expect(owner.presence.list().find((entry) => entry.self)).toMatchObject({ instanceId: 'owner' })
  })

  it('[HOST-1] [SESSION-5] a hosted broker gets the relay\'s spawn request; its error reaches the caller in its words; activity arrives as events', async () => {
    const requests: SpawnRequest[] = []
    const broker: BrokerHost = {
      async spawn(request) {
        requests.push(request)
        if (request.name === 'broken') throw new Error('claude: command not found')
        return { pid: 7 }
      },
      async stop() {},
      write() {}
    }
    const binding = owner.host(broker)
    cleanups.push(() => binding.destroy())
    const projectId = owner.store.addProject('Hosted', '/src/hosted').id
    owner.store.setProjectHost(projectId, { instanceId: 'owner' })
    await owner.provider.whenPersisted()
    const erin = await joined('editor', 'erin')
    const activity: ActivityEntry[] = []
    erin.on('activity', (entry) => activity.push(entry))
    const agent = await erin.spawn(projectId, 'alice')
    expect(requests.at(-1)).toMatchObject({ agentId: agent.id, projectId, name: 'alice' })
    await expect(erin.spawn(projectId, 'broken')).rejects.toMatchObject({ code: 'host-error', message: expect.stringContaining('claude: command not found') })
    await vi.waitFor(() => expect(activity.map((entry) => entry.type)).toContain('spawned'), { timeout: 5_000 })
  })
})
