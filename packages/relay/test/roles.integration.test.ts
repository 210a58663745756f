/**
 * Roles enforced by the relay, on live sockets, through a real server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RelayProvider, WorkspaceSession, webSocketTransport, type RelayErrorInfo } from '@orchard/client'
import { WriteRefusedError } from '@orchard/workspace'
import * as syncProtocol from 'y-protocols/sync'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'

let relay: TestRelay
let owner: WorkspaceSession
const open: WorkspaceSession[] = []

beforeEach(async () => {
  relay = await startTestRelay()
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner' })
  open.push(owner)
  owner.store.addProject('Shared', '/src/shared')
  await owner.provider.whenPersisted()
})
afterEach(async () => {
  for (const session of open.splice(0)) await session.close()
  await relay.close()
})

async function member(role: 'editor' | 'viewer', name: string): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.join(await owner.createInvite(role), { name })
  open.push(session)
  await session.provider.whenSynced()
  return session
}

/** Sends a doc update on the wire as if the client's local guard did not exist. */
function forceUpdate(session: WorkspaceSession, channel: string, edit: (doc: Y.Doc) => void): void {
  const scratch = new Y.Doc()
  Y.applyUpdate(scratch, Y.encodeStateAsUpdate(channel === 'control' ? session.controlDoc : session.store.doc))
  const before = Y.encodeStateVector(scratch)
  edit(scratch)
  const update = Y.encodeStateAsUpdate(scratch, before)
  const encoder = encoding.createEncoder()
  syncProtocol.writeUpdate(encoder, update)
  session.provider.sendFrame({ kind: 2, channel, body: encoding.toUint8Array(encoder) })
}

function nextError(provider: RelayProvider): Promise<RelayErrorInfo> {
  return new Promise((resolve) => provider.once('error', resolve))
}

describe('roles on the relay', () => {
  it('[ROLE-1] a viewer\'s write is refused with read-only, the doc is unchanged, others unaffected', async () => {
    const viewer = await member('viewer', 'Vera')
    const editor = await member('editor', 'Eddie')
    const before = Y.encodeStateVector(owner.store.doc)
    const refused = nextError(viewer.provider)
    forceUpdate(viewer, 'workspace', (doc) => doc.getMap('projects').set('evil', new Y.Map()))
    expect(await refused).toMatchObject({ code: 'read-only', channel: 'workspace', message: expect.stringContaining('Viewers can read') })
    // the editor keeps working, and nobody ever sees the viewer's change
    const projectId = owner.store.loadStore().projects[0]!.id
    editor.store.addProjectChannel(projectId, 'still-works')
    await eventually(() => owner.store.loadStore().projects[0]!.channels.includes('still-works'), { what: 'editor edit reaches owner' })
    expect(owner.store.doc.getMap('projects').has('evil')).toBe(false)
    expect(editor.store.doc.getMap('projects').has('evil')).toBe(false)
    const stored = await relay.core.room(relay.workspaceId)
    const relayDoc = stored.buildWorkspaceDoc()
    expect(relayDoc.getMap('projects').has('evil')).toBe(false)
    expect(Y.encodeStateVector(owner.store.doc)).not.toEqual(before) // the editor's change did land
  })

  it('[ROLE-3] the client refuses a viewer\'s edit locally with the relay\'s message', async () => {
    const viewer = await member('viewer', 'Vera')
    const projectId = viewer.store.loadStore().projects[0]!.id
    expect(() => viewer.store.addProjectChannel(projectId, 'nope')).toThrow(WriteRefusedError)
    expect(() => viewer.store.updateProject(projectId, { name: 'x' })).toThrow('Viewers can read this workspace but not change it. Ask an owner to make you an editor.')
    expect(viewer.store.loadStore().projects[0]!.name).toBe('Shared')
    viewer.store.setActiveProject(projectId) // local-only state is still the viewer's own
    expect(viewer.store.loadStore().activeProjectId).toBe(projectId)
  })

  it('[CONTROL-1] a client update to the control doc is refused and not applied', async () => {
    const editor = await member('editor', 'Eddie')
    const refused = nextError(editor.provider)
    forceUpdate(editor, 'control', (doc) => doc.getMap('members').set('me', { name: 'Mallory', role: 'owner' }))
    expect(await refused).toMatchObject({ code: 'forbidden', channel: 'control', message: expect.stringContaining('written by the relay only') })
    const room = await relay.core.room(relay.workspaceId)
    expect(room.control.members.has('me')).toBe(false)
  })

  it('[CONTROL-2] the control doc lists members with roles and the connected instances', async () => {
    const viewer = await member('viewer', 'Vera')
    await eventually(() => {
      const members = owner.controlDoc.getMap('members').toJSON() as Record<string, { name: string; role: string }>
      const instances = owner.controlDoc.getMap('instances').toJSON() as Record<string, { name: string }>
      return Object.values(members).some((m) => m.name === 'Vera' && m.role === 'viewer') && Object.values(instances).some((i) => i.name === 'Vera')
    }, { what: 'Vera in the control doc' })
    await viewer.close()
    open.splice(open.indexOf(viewer), 1)
    await eventually(() => !Object.values(owner.controlDoc.getMap('instances').toJSON() as Record<string, { name: string }>).some((i) => i.name === 'Vera'), {
      what: 'Vera gone from instances'
    })
  })

  it('[ROLE-2] [SESSION-3] a downgrade applies to the live socket at once', async () => {
    const editor = await member('editor', 'Eddie')
    const roles: string[] = []
    editor.on('role', (role) => roles.push(role))
    await owner.setMemberRole(editor.memberId, 'viewer')
    await eventually(() => editor.role === 'viewer', { what: 'role event' })
    expect(roles).toEqual(['viewer'])
    const refused = nextError(editor.provider)
    forceUpdate(editor, 'workspace', (doc) => doc.getMap('projects').set('late', new Y.Map()))
    expect((await refused).code).toBe('read-only')
    expect(() => editor.store.addProject('x', '/x')).toThrow(WriteRefusedError)
    await owner.setMemberRole(editor.memberId, 'editor')
    await eventually(() => editor.role === 'editor', { what: 'upgrade' })
    editor.store.addProject('Back', '/back')
    await eventually(() => owner.store.loadStore().projects.some((project) => project.name === 'Back'), { what: 'editor write after upgrade' })
  })

  it('[AUTH-5] a removed member\'s live socket is closed within a second and the credential stops working', async () => {
    const editor = await member('editor', 'Eddie')
    const credential = editor.store.getRelayWorkspaceRecord()!.authKey!
    const started = Date.now()
    const stopped = new Promise<{ code: number; reason: string }>((resolve) => editor.provider.once('stopped', resolve))
    await owner.removeMember(editor.memberId)
    const reason = await stopped
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(reason).toMatchObject({ code: 4401, reason: 'member-removed' })
    expect(editor.status).toBe('stopped')
    await expect(WorkspaceSession.open({ credential, relayUrl: relay.url, connectTimeoutMs: 5_000 })).rejects.toMatchObject({ closeCode: 4401, code: 'member-removed' })
  })

  it('[ROLE-1] a raw provider with a viewer credential cannot write either', async () => {
    const viewer = await member('viewer', 'Vera')
    const raw = new RelayProvider({
      transport: webSocketTransport(relay.url),
      credential: viewer.store.getRelayWorkspaceRecord()!.authKey!,
      instanceId: 'raw-viewer',
      docs: { workspace: new Y.Doc() }
    })
    await raw.whenSynced()
    const refused = nextError(raw)
    ;(raw.docs.workspace as Y.Doc).getMap('projects').set('raw', new Y.Map())
    expect((await refused).code).toBe('read-only')
    raw.destroy()
    expect(owner.store.doc.getMap('projects').has('raw')).toBe(false)
  })
})
