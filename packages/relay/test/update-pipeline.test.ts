/**
 * UpdatePipeline alone (DOCS-2, DOCS-3, DOCS-4, LIMIT-2): real SharedDocs and the in-memory
 * store behind a recording wrapper the test can hold closed, so transactions per turn,
 * ordering while an append is in flight, refusals and failures are checked exactly.
 * (Written for the mutants the end-to-end sync tests left alive.)
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { FrameKind, decodeFrame, decodeSyncMessage } from '@orchard/protocol'
import { SharedDoc, type DocSubscriber, type UpdateOrigin } from '../src/docs/SharedDoc.js'
import { UpdatePipeline, type PipelineOptions } from '../src/docs/UpdatePipeline.js'
import { MemoryStorage } from '../src/storage/MemoryStorage.js'
import type { DocStorage } from '../src/storage/types.js'

type Entries = ReadonlyArray<{ docId: string; update: Uint8Array }>

/** The in-memory store, recording every append; `hold()` keeps the next appends pending until released. */
class RecordingStorage implements DocStorage {
  readonly inner = new MemoryStorage()
  readonly appends: Entries[] = []
  private gate: Promise<void> | null = null
  private open: (() => void) | null = null
  /** What the next appends throw, one each, in order. */
  readonly failures: unknown[] = []

  hold(): () => void {
    this.gate = new Promise((resolve) => (this.open = resolve))
    return () => {
      this.gate = null
      this.open?.()
    }
  }

  async appendUpdates(entries: Entries): Promise<number[]> {
    this.appends.push(entries)
    if (this.gate) await this.gate
    if (this.failures.length > 0) throw this.failures.shift()
    return this.inner.appendUpdates(entries)
  }
  loadDoc(docId: string) {
    return this.inner.loadDoc(docId)
  }
  compactDoc(docId: string, merged: Uint8Array, throughSeq: number) {
    return this.inner.compactDoc(docId, merged, throughSeq)
  }
  removeDoc(docId: string) {
    return this.inner.removeDoc(docId)
  }
}

/** An update inserting `text` at the end of the doc's `notes`, made by its own Yjs client. */
function edit(text: string, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc()
  if (base) Y.applyUpdate(doc, base)
  const before = Y.encodeStateVector(doc)
  doc.getText('notes').insert(doc.getText('notes').length, text)
  return Y.encodeStateAsUpdate(doc, before)
}

function textOf(...updates: Uint8Array[]): string {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc.getText('notes').toString()
}

interface Subscriber extends DocSubscriber {
  /** The text of every update frame received, in order. */
  texts(): string[]
}

function subscriber(): Subscriber {
  const frames: Uint8Array[] = []
  return {
    flavor: 'orchard',
    sendRaw: (bytes) => frames.push(bytes),
    texts: () =>
      frames.map((bytes) => {
        const frame = decodeFrame(bytes)
        if (frame.kind !== FrameKind.sync) throw new Error(`expected a sync frame, got kind ${frame.kind}`)
        const message = decodeSyncMessage(frame.body)
        if (!message || !('update' in message)) throw new Error('expected a sync update')
        return textOf(message.update)
      })
  }
}

interface Settled {
  error?: { code: string; message: string }
}

function origin(from: DocSubscriber, checked?: boolean): UpdateOrigin & { settled: Settled[] } {
  const settled: Settled[] = []
  return { subscriber: from, settle: (error) => settled.push(error ? { error } : {}), settled, ...(checked === undefined ? {} : { checked }) }
}

function setup(options: Partial<PipelineOptions> = {}) {
  const storage = new RecordingStorage()
  const errors: Error[] = []
  const persisted: Array<{ docId: string; bytes: number; updates: number }> = []
  const pipeline = new UpdatePipeline(storage, {
    maxDocBytes: 1_000_000,
    onError: (error) => errors.push(error),
    afterPersist: (doc, bytes, updates) => persisted.push({ docId: doc.docId, bytes, updates }),
    ...options
  })
  return { storage, pipeline, errors, persisted }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('UpdatePipeline', () => {
  it('[DOCS-3] a turn of updates to two docs is ONE append transaction with one merged entry per doc; then visible, acknowledged and reported', async () => {
    const { storage, pipeline, persisted } = setup()
    const notes = new SharedDoc('w/workspace', 'workspace', [])
    const control = new SharedDoc('w/control', 'control', [])
    const [alice, bob, reader] = [subscriber(), subscriber(), subscriber()]
    for (const sub of [alice, bob, reader]) notes.subscribers.add(sub)
    const fromAlice = origin(alice, true)
    const fromBob = origin(bob, true)
    const a = edit('a')
    const b = edit('b')
    pipeline.submit(notes, a, fromAlice)
    pipeline.submit(notes, b, fromBob)
    pipeline.submit(control, edit('c'), null)
    // Nothing is visible or settled before it is durable.
    expect(fromAlice.settled).toEqual([])
    await pipeline.drain()
    expect(storage.appends).toHaveLength(1)
    expect(storage.appends[0]?.map((entry) => entry.docId)).toEqual(['w/workspace', 'w/control'])
    expect(textOf(storage.appends[0]?.[0]?.update as Uint8Array).split('').sort().join('')).toBe('ab')
    expect(fromAlice.settled).toEqual([{}])
    expect(fromBob.settled).toEqual([{}])
    // DOCS-4: each sender gets only what the other sent; a reader gets both at once.
    expect(alice.texts()).toEqual(['b'])
    expect(bob.texts()).toEqual(['a'])
    expect(reader.texts()).toHaveLength(1)
    expect(reader.texts()[0]?.split('').sort().join('')).toBe('ab')
    expect(textOf(notes.fullUpdate()).split('').sort().join('')).toBe('ab')
    expect([notes.lastSeq, control.lastSeq]).toEqual([1, 1])
    expect(persisted).toEqual([
      { docId: 'w/workspace', bytes: (storage.appends[0]?.[0]?.update as Uint8Array).byteLength, updates: 2 },
      { docId: 'w/control', bytes: (storage.appends[0]?.[1]?.update as Uint8Array).byteLength, updates: 1 }
    ])
  })

  it('[DOCS-3] a lone update is stored byte for byte as sent; the doc takes the seq storage gave it', async () => {
    const { storage, pipeline } = setup()
    await storage.inner.appendUpdates([1, 2, 3, 4].map(() => ({ docId: 'w/workspace', update: edit('x') })))
    const doc = new SharedDoc('w/workspace', 'workspace', [], 4)
    const other = new SharedDoc('w/control', 'control', [])
    const update = edit('hello')
    pipeline.submit(other, edit('c'), null)
    pipeline.submit(doc, update, null)
    await pipeline.drain()
    expect(storage.appends[0]?.[1]?.update).toBe(update)
    expect([other.lastSeq, doc.lastSeq]).toEqual([1, 5])
  })

  it('[DOCS-3] a storage that hands back no seq still moves the doc on by one', async () => {
    const { storage, pipeline } = setup()
    storage.appendUpdates = async (entries) => {
      storage.appends.push(entries)
      return []
    }
    const doc = new SharedDoc('w/workspace', 'workspace', [], 7)
    pipeline.submit(doc, edit('x'), null)
    await pipeline.drain()
    expect(doc.lastSeq).toBe(8)
  })

  it('[DOCS-3] while an append is in flight, later turns wait and then go out together, in order, as the next transaction', async () => {
    const { storage, pipeline } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const reader = subscriber()
    doc.subscribers.add(reader)
    const release = storage.hold()
    const first = edit('1')
    pipeline.submit(doc, first, null)
    await vi.waitFor(() => expect(storage.appends).toHaveLength(1), { timeout: 5_000, interval: 1 })
    const second = edit('2', first)
    pipeline.submit(doc, second, null)
    await turn()
    const third = edit('3', Y.mergeUpdates([first, second]))
    pipeline.submit(doc, third, null)
    let drained = false
    const draining = pipeline.drain().then(() => {
      drained = true
    })
    // Two more turns: a second transaction would have started by now, and drain resolved.
    await turn()
    await turn()
    expect(storage.appends).toHaveLength(1)
    expect(drained).toBe(false)
    expect(reader.texts()).toEqual([])
    release()
    await draining
    expect(storage.appends).toHaveLength(2)
    expect(storage.appends[1]).toHaveLength(1)
    expect(textOf(first, storage.appends[1]?.[0]?.update as Uint8Array)).toBe('123')
    expect(reader.texts().length).toBe(2)
    expect(textOf(doc.fullUpdate())).toBe('123')
  })

  it('[DOCS-3] drain waits for an append in flight, also when two submits share a turn and nothing else is pending', async () => {
    const { storage, pipeline } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const release = storage.hold()
    pipeline.submit(doc, edit('a'), null)
    pipeline.submit(doc, edit('b'), null)
    await vi.waitFor(() => expect(storage.appends).toHaveLength(1), { timeout: 5_000, interval: 1 })
    let drained = false
    const draining = pipeline.drain().then(() => {
      drained = true
    })
    // Two turns: an early return would have resolved drain by now.
    await turn()
    await turn()
    expect(drained).toBe(false)
    release()
    await draining
    expect(storage.appends).toHaveLength(1)
    expect(doc.lastSeq).toBe(1)
  })

  it('[DOCS-3] drain resolves only once what was submitted is durable, even when called in the same turn as the submit', async () => {
    const { storage, pipeline } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    pipeline.submit(doc, edit('now'), null)
    await pipeline.drain()
    expect((await storage.loadDoc('w/workspace'))?.updates).toHaveLength(1)
    expect(doc.lastSeq).toBe(1)
    // Nothing pending: drain resolves at once, and with nothing to store nothing is appended.
    await pipeline.drain()
    expect(storage.appends).toHaveLength(1)
  })

  it('[DOCS-2] an update that is not Yjs is refused bad-frame naming the channel, never stored; the rest of the turn is stored', async () => {
    const { storage, pipeline } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const [bad, good, reader] = [subscriber(), subscriber(), subscriber()]
    for (const sub of [bad, good, reader]) doc.subscribers.add(sub)
    const fromBad = origin(bad)
    const fromGood = origin(good)
    pipeline.submit(doc, new Uint8Array([9, 9, 9, 9]), fromBad)
    pipeline.submit(doc, edit('fine'), fromGood)
    await pipeline.drain()
    expect(fromBad.settled).toEqual([{ error: { code: 'bad-frame', message: 'That workspace update is not a valid Yjs update; it was not applied.' } }])
    expect(fromGood.settled).toEqual([{}])
    expect(storage.appends).toHaveLength(1)
    expect(textOf(storage.appends[0]?.[0]?.update as Uint8Array)).toBe('fine')
    expect(reader.texts()).toEqual(['fine'])
    expect(bad.texts()).toEqual(['fine'])
  })

  it('[DOCS-2] an empty update (a step 2 with nothing new) is acknowledged, not stored, not broadcast, and costs no transaction', async () => {
    const { storage, pipeline, persisted } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const [sender, reader] = [subscriber(), subscriber()]
    doc.subscribers.add(reader)
    const from = origin(sender)
    pipeline.submit(doc, Y.encodeStateAsUpdate(new Y.Doc()), from)
    await pipeline.drain()
    expect(from.settled).toEqual([{}])
    expect(storage.appends).toEqual([])
    expect(persisted).toEqual([])
    expect(reader.texts()).toEqual([])
    expect(doc.lastSeq).toBe(0)
  })

  it('[DOCS-2] a checked update is not decoded again: the origin vouches for it', async () => {
    const { storage, pipeline } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const sender = subscriber()
    // What WorkspaceRoom passes as checked has been decoded once already (VALID-1); the
    // pipeline trusts that, so even the canonical empty update, flagged checked, is stored.
    const from = origin(sender, true)
    pipeline.submit(doc, Y.encodeStateAsUpdate(new Y.Doc()), from)
    await pipeline.drain()
    expect(from.settled).toEqual([{}])
    expect(storage.appends).toHaveLength(1)
  })

  it('[DOCS-2] [LIMIT-2] the relay\'s own updates (no origin) that are empty, malformed or too large are dropped quietly; the rest of the turn is stored', async () => {
    const { storage, pipeline, errors } = setup({ maxDocBytes: 200 })
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const big = new SharedDoc('w/control', 'control', [])
    pipeline.submit(doc, Y.encodeStateAsUpdate(new Y.Doc()), null)
    pipeline.submit(doc, new Uint8Array([9, 9, 9, 9]), null)
    pipeline.submit(doc, edit('kept'), null)
    pipeline.submit(big, edit('x'.repeat(300)), null)
    await pipeline.drain()
    expect(errors).toEqual([])
    expect(storage.appends).toHaveLength(1)
    expect(storage.appends[0]?.map((entry) => entry.docId)).toEqual(['w/workspace'])
    expect(textOf(doc.fullUpdate())).toBe('kept')
  })

  it('[LIMIT-2] an update that would take a doc past maxDocBytes is refused too-large and not stored; exactly at the limit is stored; other docs are unaffected', async () => {
    const exact = edit('exactly')
    const base = new SharedDoc('w/workspace', 'workspace', [])
    const limit = base.bytes + exact.byteLength
    const { storage, pipeline } = setup({ maxDocBytes: limit })
    const atLimit = new SharedDoc('a/workspace', 'workspace', [])
    const over = new SharedDoc('b/workspace', 'workspace', [])
    const sender = subscriber()
    const fits = origin(sender, true)
    const tooBig = origin(sender, true)
    const tooBigToo = origin(sender, true)
    pipeline.submit(atLimit, exact, fits)
    pipeline.submit(over, edit('exactly!'), tooBig)
    pipeline.submit(over, edit('more'), tooBigToo)
    await pipeline.drain()
    expect(fits.settled).toEqual([{}])
    const refusal = { error: { code: 'too-large', message: `This change would make the document larger than the relay allows (${limit} bytes); it was not saved.` } }
    expect(tooBig.settled).toEqual([refusal])
    expect(tooBigToo.settled).toEqual([refusal])
    expect(storage.appends).toHaveLength(1)
    expect(storage.appends[0]?.map((entry) => entry.docId)).toEqual(['a/workspace'])
    expect(over.lastSeq).toBe(0)
    expect(textOf(over.fullUpdate())).toBe('')
  })

  it('[DOCS-3] a failed append makes nothing visible: every sender is told internal, the error is reported, and the next turn is stored', async () => {
    const { storage, pipeline, errors, persisted } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const [sender, reader] = [subscriber(), subscriber()]
    doc.subscribers.add(reader)
    const from = origin(sender, true)
    storage.failures.push('disk full')
    pipeline.submit(doc, edit('lost'), from)
    pipeline.submit(doc, edit('lost, from the relay'), null)
    await pipeline.drain()
    // Reported once: the relay's own update in the failed turn has no one to tell.
    expect(errors.map((error) => [error instanceof Error, error.message])).toEqual([[true, 'disk full']])
    expect(from.settled).toEqual([{ error: { code: 'internal', message: 'The relay could not store this change; it will be retried when you reconnect.' } }])
    expect(reader.texts()).toEqual([])
    expect([doc.lastSeq, doc.bytes]).toEqual([0, new SharedDoc('x', 'workspace', []).bytes])
    expect(persisted).toEqual([])
    const failure = new Error('still full')
    storage.failures.push(failure)
    pipeline.submit(doc, edit('lost too'), null)
    await pipeline.drain()
    expect(errors[1]).toBe(failure)
    pipeline.submit(doc, edit('kept'), from)
    await pipeline.drain()
    expect(reader.texts()).toEqual(['kept'])
  })

  it('[DOCS-3] a failure after the append (a throwing afterPersist) is reported, and later updates still go out', async () => {
    let calls = 0
    const { pipeline, errors } = setup({
      afterPersist: () => {
        calls++
        if (calls === 1) throw 'hook failed'
        if (calls === 2) throw new Error('hook failed again')
      }
    })
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const reader = subscriber()
    doc.subscribers.add(reader)
    pipeline.submit(doc, edit('one'), null)
    await pipeline.drain()
    expect(errors.map((error) => [error instanceof Error, error.message])).toEqual([[true, 'hook failed']])
    pipeline.submit(doc, edit('two'), null)
    await pipeline.drain()
    expect(errors.map((error) => error.message)).toEqual(['hook failed', 'hook failed again'])
    pipeline.submit(doc, edit('three'), null)
    await pipeline.drain()
    expect(reader.texts()).toEqual(['one', 'two', 'three'])
  })

  it('[DOCS-3] updates submitted while a failing flush is in flight are stored by the next one, without another submit', async () => {
    const { storage, pipeline, errors } = setup()
    const doc = new SharedDoc('w/workspace', 'workspace', [])
    const release = storage.hold()
    storage.failures.push(new Error('transient'))
    pipeline.submit(doc, edit('a'), null)
    await vi.waitFor(() => expect(storage.appends).toHaveLength(1), { timeout: 5_000, interval: 1 })
    pipeline.submit(doc, edit('b'), null)
    release()
    await pipeline.drain()
    expect(errors.map((error) => error.message)).toEqual(['transient'])
    expect(textOf(doc.fullUpdate())).toBe('b')
  })
})
