/**
 * Presence through the relay core: stamped identity, forgery refused, echoes quiet, no
 * ghosts, role changes visible.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RelayProvider, type RelayErrorInfo } from '@orchard/client'
import { FrameKind } from '@orchard/protocol'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { MemoryStorage, RelayCore } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { memoryTransport } from './harness/memory-transport.js'
import type { MemoryPair } from '@orchard/client/testing'

let core: RelayCore
let ownerCredential: string
let workspaceId: string
let pairs: MemoryPair[]
const providers: RelayProvider[] = []

beforeEach(async () => {
  core = new RelayCore({ storage: new MemoryStorage(), limits: { awarenessIntervalMs: 0 }, logger: { info: () => {}, error: () => {} } })
  const created = await core.createWorkspace('W', 'Ana')
  ownerCredential = created.credential
  workspaceId = created.workspace.id
  pairs = []
})
afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await core.close()
})

function join(instanceId: string, credential = ownerCredential): RelayProvider {
  const provider = new RelayProvider({ transport: memoryTransport(core, pairs), credential, instanceId, docs: { workspace: new Y.Doc() }, awareness: new Awareness(new Y.Doc()) })
  providers.push(provider)
  return provider
}

async function editorCredential(name: string): Promise<string> {
  const { member } = await core.auth.addMember(workspaceId, name, 'editor')
  void member
  return (await core.auth.addMember(workspaceId, name, 'editor')).credential
}

function stateOf(viewer: RelayProvider, subject: RelayProvider): Record<string, unknown> | undefined {
  return viewer.awareness!.getStates().get(subject.awareness!.clientID) as Record<string, unknown> | undefined
}

describe('presence', () => {
  it('[PRESENCE-1] every state carries the identity the relay authenticated', async () => {
    const ana = join('ana-laptop')
    const ben = join('ben-desktop', await editorCredential('Ben'))
    ben.awareness!.setLocalStateField('viewing', { projectId: 'p1' })
    await eventually(() => stateOf(ana, ben)?.viewing, { what: 'ana sees ben' })
    expect(stateOf(ana, ben)).toEqual({
      viewing: { projectId: 'p1' },
      orchard: { memberId: expect.any(String), name: 'Ben', role: 'editor', instanceId: 'ben-desktop', label: '' }
    })
  })

  it('[PRESENCE-2] a state claiming someone else is refused and not relayed', async () => {
    const ana = join('ana-laptop')
    const mallory = join('mallory', await editorCredential('Mallory'))
    const witness = join('witness', await editorCredential('Wes'))
    await Promise.all([ana.whenSynced(), mallory.whenSynced(), witness.whenSynced()])
    // Every state of mallory's that reaches ana, from before the forgery on.
    const seenByAna: unknown[] = []
    ana.awareness!.on('change', () => seenByAna.push(stateOf(ana, mallory)))
    const refused = new Promise<RelayErrorInfo>((resolve) => mallory.once('error', resolve))
    mallory.awareness!.setLocalState({ orchard: { memberId: 'someone-else', name: 'Ana', role: 'owner', instanceId: 'ana-laptop' } })
    expect(await refused).toMatchObject({ code: 'forbidden', message: expect.stringContaining('claimed another identity') })
    // A later state from another instance: the relay broadcasts presence changes in order (a
    // batch holds every instance's change), so once ana has the witness's state, a relayed
    // forgery would have reached her too. No sleeping to see if nothing happens.
    witness.awareness!.setLocalState({ marker: 'after the forgery' })
    await eventually(() => stateOf(ana, witness)?.marker === 'after the forgery', { what: 'ana sees the witness\'s later state' })
    expect(seenByAna.filter((state) => state !== undefined)).toEqual([])
    expect(stateOf(ana, mallory)).toBeUndefined()
  })

  it('[PRESENCE-3] an update for another instance\'s client id: newer is refused, an echo is quiet', async () => {
    const ana = join('ana-laptop')
    const eve = join('eve', await editorCredential('Eve'))
    ana.awareness!.setLocalStateField('cursor', 1)
    await eventually(() => eve.awareness!.getStates().has(ana.awareness!.clientID), { what: 'eve sees ana' })
    const errors: RelayErrorInfo[] = []
    eve.on('error', (error) => errors.push(error))
    // An echo: ana's own state as eve received it.
    eve.sendFrame({ kind: FrameKind.awareness, channel: 'workspace', body: encodeAwarenessUpdate(eve.awareness!, [ana.awareness!.clientID]) })
    // A takeover attempt: ana's client id with a newer clock.
    const forged = new Awareness(new Y.Doc())
    forged.clientID = ana.awareness!.clientID
    ;(forged as unknown as { meta: Map<number, { clock: number; lastUpdated: number }> }).meta.set(forged.clientID, { clock: 1000, lastUpdated: 0 })
    forged.setLocalState({ cursor: 666 })
    eve.sendFrame({ kind: FrameKind.awareness, channel: 'workspace', body: encodeAwarenessUpdate(forged, [forged.clientID]) })
    await eventually(() => errors.length === 1, { what: 'one refusal' })
    expect(errors[0]).toMatchObject({ code: 'forbidden', message: expect.stringContaining('belongs to another instance') })
    expect((stateOf(eve, ana) as { cursor?: number }).cursor).toBe(1)
    forged.destroy()
  })

  it('[PRESENCE-4] a closed socket\'s states are removed for everyone at once', async () => {
    const ana = join('ana-laptop')
    const ben = join('ben', await editorCredential('Ben'))
    ben.awareness!.setLocalStateField('here', true)
    await eventually(() => stateOf(ana, ben), { what: 'ana sees ben' })
    const benPair = pairs[1] as MemoryPair
    benPair.cut()
    await eventually(() => stateOf(ana, ben) === undefined, { what: 'ghost removed', timeoutMs: 1_000 })
  })

  it('[PRESENCE-5] a role change is visible in presence at once', async () => {
    const ana = join('ana-laptop')
    const benCredential = await editorCredential('Ben')
    const ben = join('ben', benCredential)
    ben.awareness!.setLocalStateField('here', true)
    await eventually(() => stateOf(ana, ben), { what: 'ana sees ben' })
    const memberId = benCredential.split('.')[2]!
    await ana.request('member.setRole', { memberId, role: 'viewer' })
    await eventually(() => (stateOf(ana, ben)?.orchard as { role: string } | undefined)?.role === 'viewer', { what: 'restamped' })
  })
})
