/**
 * FILE-14 for updates that arrive before the ones they depend on: Yjs holds them as
 * pending and nothing visible changes, yet they are the replica's and must be saved, or a
 * restart loses them. Each new pending update is saved, not only the first. Written against
 * the survivors of a Stryker run over PearStore.ts lines 783-896 (TESTING.md, session 5).
 */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore } from '../src/index.js'
import { recordingLogger, tempDir } from '../src/testing/index.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function open(options: ConstructorParameters<typeof PearStore>[0]): PearStore {
  const store = new PearStore({ logger: recordingLogger(), saveDelayMs: 5, ...options })
  cleanups.push(() => store.close())
  return store
}

/** The update each step makes on another machine's replica. */
function recorder(store: PearStore) {
  return (step: () => void): Uint8Array => {
    const before = Y.encodeStateVector(store.doc)
    step()
    return Y.encodeStateAsUpdateV2(store.doc, before)
  }
}

describe('updates whose dependencies have not arrived', () => {
  it('[FILE-14] edits and removals that arrive before what they depend on are each saved, and show once it arrives after a restart', async () => {
    let n = 0
    const other = open({ doc: new Y.Doc({ guid: 'ws-pending' }), newId: () => ['p1', 'r1'][n++] ?? `id-${n}` })
    const record = recorder(other)
    const created = record(() => {
      other.addProject('App', '/app')
      other.addProjectChannel('p1', 'a')
      other.addProjectChannel('p1', 'b')
    })
    const renamed = record(() => other.updateProject('p1', { name: 'Renamed' }))
    const channelAdded = record(() => other.addProjectChannel('p1', 'c'))
    const aRemoved = record(() => other.removeProjectChannel('p1', 'a'))
    const bRemoved = record(() => other.removeProjectChannel('p1', 'b'))

    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const file = join(dir, 'projects.json')
    const store = open({ file, doc: new Y.Doc({ guid: 'ws-pending' }) })
    // One at a time, each saved before the next arrives: each must mark the store changed.
    for (const update of [renamed, channelAdded, aRemoved, bRemoved]) {
      Y.applyUpdateV2(store.doc, update, 'relay')
      expect(store.loadStore().projects).toEqual([])
      await store.flush()
    }
    await store.close()

    const restarted = open({ file, doc: new Y.Doc({ guid: 'ws-pending' }) })
    Y.applyUpdateV2(restarted.doc, created, 'relay')
    expect(restarted.loadStore().projects.map(({ name, channels }) => ({ name, channels }))).toEqual([{ name: 'Renamed', channels: ['general', 'c'] }])
  })
})
