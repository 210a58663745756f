/**
 * VALID-6: the nesting of shared types is bounded in the whole doc. Each update below nests
 * just one level inside the deepest type the doc already has, which VALID-1 (depth within
 * one update) cannot see. Real relay, real sockets, an Orchard client as the editor.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WorkspaceSession, type RelayErrorInfo } from '@orchard/client'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import * as Y from 'yjs'

const MAX_DEPTH = 8

let relay: TestRelay
let owner: WorkspaceSession
let watcher: WorkspaceSession
const sessions: WorkspaceSession[] = []

beforeEach(async () => {
  relay = await startTestRelay({ limits: { maxUpdateDepth: MAX_DEPTH } })
  owner = await open()
  watcher = await WorkspaceSession.join(await owner.createInvite('viewer'), { name: 'Watcher' })
  sessions.push(watcher)
})
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close()
  await relay.close()
})

async function open(): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner', instanceId: 'owner-machine' })
  sessions.push(session)
  return session
}

/** Depth of the deepest shared type under the root map `deep` (the root map counts as 1). */
function depthOf(doc: Y.Doc): number {
  let depth = 1
  let current: Y.Map<unknown> | Y.Array<unknown> = doc.getMap('deep')
  for (let guard = 0; guard < 1000; guard++) {
    const next: unknown = current instanceof Y.Map ? current.get('k') : current.get(current.length - 1)
    if (!(next instanceof Y.Map || next instanceof Y.Array)) return depth
    current = next as Y.Map<unknown> | Y.Array<unknown>
    depth++
  }
  throw new Error('deeper than 1000')
}

function deepest(doc: Y.Doc): Y.Map<unknown> | Y.Array<unknown> {
  let current: Y.Map<unknown> | Y.Array<unknown> = doc.getMap('deep')
  for (let guard = 0; guard < 1000; guard++) {
    const next: unknown = current instanceof Y.Map ? current.get('k') : current.get(current.length - 1)
    if (!(next instanceof Y.Map || next instanceof Y.Array)) return current
    current = next as Y.Map<unknown> | Y.Array<unknown>
  }
  throw new Error('deeper than 1000')
}

/**
 * One level more, in its own update: a map under a map key (the update names its parent),
 * or an array appended after an existing element (it names only its left neighbour).
 */
function nestOnce(session: WorkspaceSession, level: number): void {
  const parent = deepest(session.store.doc)
  session.store.doc.transact(() => {
    const child = level % 2 === 0 ? new Y.Map<unknown>() : new Y.Array<unknown>()
    if (child instanceof Y.Array) child.push(['first element'])
    if (parent instanceof Y.Map) parent.set('k', child)
    else parent.push([child])
  })
}

describe('nesting across updates', () => {
  it('[VALID-6] an update nesting one level past the doc\'s bound is refused bad-frame to its sender alone; nothing is stored or broadcast', async () => {
    deepest(owner.store.doc) // the root map
    owner.store.doc.getArray('unrelated').push(['x'])
    for (let level = 2; level <= MAX_DEPTH; level++) {
      nestOnce(owner, level)
      await owner.provider.whenPersisted()
    }
    expect(depthOf(owner.store.doc)).toBe(MAX_DEPTH)
    await eventually(() => depthOf(watcher.store.doc) === MAX_DEPTH, { what: 'watcher has the doc at the bound' })

    const errors: RelayErrorInfo[] = []
    const watcherErrors: RelayErrorInfo[] = []
    owner.provider.on('error', (error: RelayErrorInfo) => errors.push(error))
    watcher.provider.on('error', (error: RelayErrorInfo) => watcherErrors.push(error))
    nestOnce(owner, MAX_DEPTH + 1)
    await eventually(() => errors.length > 0, { what: 'the sender hears why' })
    expect(errors[0]).toMatchObject({ code: 'bad-frame', channel: 'workspace', message: expect.stringContaining(`nest shared types ${MAX_DEPTH + 1} levels deep in the document, deeper than the ${MAX_DEPTH} allowed`) })
    // Nothing stored: the relay's doc and the watcher stay at the bound; the sender stays connected.
    const stored = (await relay.core.room(relay.workspaceId)).buildWorkspaceDoc()
    expect(depthOf(stored)).toBe(MAX_DEPTH)
    // Others keep editing. (The sender's own later edits build on the refused one, so no
    // replica can apply them: a refused update is the sender's to undo, as with VALID-1.)
    const other = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'laptop', instanceId: 'owner-laptop' })
    sessions.push(other)
    other.store.doc.getArray('unrelated').push(['after the refusal'])
    await eventually(() => watcher.store.doc.getArray('unrelated').length === 2, { what: 'another client\'s later edit reaches the watcher' })
    expect(depthOf(watcher.store.doc)).toBe(MAX_DEPTH)
    expect(watcherErrors).toEqual([])
    expect(owner.status).toBe('connected')
  })

  it('[VALID-6] the bound holds after the doc is unloaded and loaded again (depths read from the stored doc)', async () => {
    for (let level = 2; level <= MAX_DEPTH; level++) {
      nestOnce(owner, level)
      await owner.provider.whenPersisted()
    }
    const local = Y.encodeStateAsUpdate(owner.store.doc)
    for (const session of sessions.splice(0)) await session.close()
    await eventually(() => relay.core.loadedRooms === 0, { what: 'the workspace unloads' })
    const again = await open()
    await eventually(() => depthOf(again.store.doc) === MAX_DEPTH, { what: 'reloaded at the bound' })
    Y.applyUpdate(again.store.doc, local)
    const errors: RelayErrorInfo[] = []
    again.provider.on('error', (error: RelayErrorInfo) => errors.push(error))
    nestOnce(again, MAX_DEPTH + 1)
    await eventually(() => errors.length > 0, { what: 'the sender hears why' })
    expect(errors[0]).toMatchObject({ code: 'bad-frame', message: expect.stringContaining('deeper than the 8 allowed') })
    expect(depthOf((await relay.core.room(relay.workspaceId)).buildWorkspaceDoc())).toBe(MAX_DEPTH)
  })

  it('[VALID-6] nesting within the bound, and edits beside deep types, are stored as before', async () => {
    for (let level = 2; level <= MAX_DEPTH; level++) {
      nestOnce(owner, level)
      await owner.provider.whenPersisted()
    }
    const errors: RelayErrorInfo[] = []
    owner.provider.on('error', (error: RelayErrorInfo) => errors.push(error))
    const parent = deepest(owner.store.doc)
    // A value (not a type) at the deepest level is fine.
    if (parent instanceof Y.Map) parent.set('leaf', 'value')
    else parent.push(['leaf'])
    await owner.provider.whenPersisted()
    expect(errors).toEqual([])
  })
})
