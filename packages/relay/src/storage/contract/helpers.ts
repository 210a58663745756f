/** Small helpers shared by the storage contract suites. */
import { isDeepStrictEqual } from 'node:util'
import * as Y from 'yjs'

export { fuzzParams } from '@orchard/protocol/testing'

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

/**
 * A real Yjs editing history: two replicas typing, deleting and setting map keys, each
 * update applied to the other as a provider would. Returns every update in the order they
 * were made, and a fresh doc that applied all of them.
 */
export function yjsHistory(steps: number): { updates: Uint8Array[]; expected: Y.Doc } {
  const replicas = [new Y.Doc(), new Y.Doc()] as const
  const updates: Uint8Array[] = []
  replicas.forEach((doc, i) => {
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'remote') return
      updates.push(update)
      Y.applyUpdate(replicas[1 - i] as Y.Doc, update, 'remote')
    })
  })
  for (let step = 0; step < steps; step++) {
    const doc = replicas[step % 2] as Y.Doc
    const text = doc.getText('text')
    text.insert(Math.min(step, text.length), `s${step} `)
    if (step % 3 === 2) text.delete(0, 2)
    doc.getMap('map').set(`k${step % 4}`, step)
  }
  // The oracle is a doc that applied the original updates, as the storage's reader would.
  return { updates, expected: docFrom(updates) }
}

/** Applies stored updates to a fresh Y.Doc, the way the relay rebuilds a document. */
export function docFrom(updates: readonly Uint8Array[]): Y.Doc {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc
}

/** What two docs must share to count as the same document: content, state vector and delete set. */
export function yjsContent(doc: Y.Doc): { text: string; map: unknown; snapshot: Y.Snapshot } {
  return { text: doc.getText('text').toString(), map: doc.getMap('map').toJSON(), snapshot: Y.snapshot(doc) }
}

export function sameYjsDoc(actual: Y.Doc, expected: Y.Doc): boolean {
  const a = yjsContent(actual)
  const b = yjsContent(expected)
  return a.text === b.text && isDeepStrictEqual(a.map, b.map) && Y.equalSnapshots(a.snapshot, b.snapshot)
}
