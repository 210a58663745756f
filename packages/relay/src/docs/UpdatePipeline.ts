/**
 * Every update on its way in: validated, merged per document, appended durably in ONE
 * storage transaction per event-loop turn (DOCS-3), and only then made visible and
 * acknowledged. Appends are serialized, so a doc's updates are stored in arrival order.
 */
import * as Y from 'yjs'
import type { DocStorage } from '../storage/types.js'
import { isEmptyUpdate } from './DocState.js'
import type { DocSubscriber, SharedDoc, UpdateOrigin } from './SharedDoc.js'

interface Pending {
  doc: SharedDoc
  update: Uint8Array
  origin: UpdateOrigin | null
}

export interface PipelineOptions {
  maxDocBytes: number
  /** Called after each durable append (metrics, hooks, compaction). */
  afterPersist?: (doc: SharedDoc, bytes: number, updates: number) => void
  onError: (error: Error) => void
}

export class UpdatePipeline {
  private pending: Pending[] = []
  private scheduled = false
  private flushing: Promise<void> | null = null

  constructor(
    private readonly storage: DocStorage,
    private readonly options: PipelineOptions
  ) {}

  submit(doc: SharedDoc, update: Uint8Array, origin: UpdateOrigin | null): void {
    this.pending.push({ doc, update, origin })
    this.schedule()
  }

  /**
   * Group commit: one append in flight at a time; whatever arrives meanwhile (any number
   * of turns' worth) goes out together as the next transaction when it completes.
   */
  private schedule(): void {
    if (this.scheduled || this.flushing) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      const batch = this.pending
      this.pending = []
      this.flushing = this.flush(batch)
        .catch((error: unknown) => this.options.onError(error instanceof Error ? error : new Error(String(error))))
        .finally(() => {
          this.flushing = null
          if (this.pending.length > 0) this.schedule()
        })
    })
  }

  /** Resolves once everything submitted so far is durable and visible. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing
      else if (this.pending.length > 0 || this.scheduled) await new Promise((resolve) => setImmediate(resolve))
      else return
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    const byDoc = new Map<SharedDoc, Pending[]>()
    for (const item of batch) {
      const list = byDoc.get(item.doc)
      if (list) list.push(item)
      else byDoc.set(item.doc, [item])
    }
    const commits: Array<{ doc: SharedDoc; merged: Uint8Array; items: Pending[] }> = []
    for (const [doc, items] of byDoc) {
      const accepted = items.filter((item) => this.accept(doc, item))
      if (accepted.length === 0) continue
      const merged = accepted.length === 1 ? (accepted[0] as Pending).update : Y.mergeUpdates(accepted.map((item) => item.update))
      if (doc.bytes + merged.byteLength > this.options.maxDocBytes) {
        for (const item of accepted) {
          item.origin?.settle({
            code: 'too-large',
            message: `This change would make the document larger than the relay allows (${this.options.maxDocBytes} bytes); it was not saved.`
          })
        }
        continue
      }
      commits.push({ doc, merged, items: accepted })
    }
    if (commits.length === 0) return
    let seqs: number[]
    try {
      seqs = await this.storage.appendUpdates(commits.map(({ doc, merged }) => ({ docId: doc.docId, update: merged })))
    } catch (error) {
      // Nothing was made visible; senders are told, and their clients re-send on reconnect.
      this.options.onError(error instanceof Error ? error : new Error(String(error)))
      for (const { items } of commits) {
        for (const item of items) item.origin?.settle({ code: 'internal', message: 'The relay could not store this change; it will be retried when you reconnect.' })
      }
      return
    }
    for (const [index, { doc, merged, items }] of commits.entries()) {
      const contributions = new Map<DocSubscriber | null, Uint8Array[]>()
      for (const item of items) {
        const key = item.origin?.subscriber ?? null
        const list = contributions.get(key)
        if (list) list.push(item.update)
        else contributions.set(key, [item.update])
      }
      doc.commit(merged, seqs[index] ?? doc.lastSeq + 1, contributions)
      for (const item of items) item.origin?.settle()
      this.options.afterPersist?.(doc, merged.byteLength, items.length)
    }
  }

  private accept(doc: SharedDoc, item: Pending): boolean {
    if (item.origin?.checked) return true
    try {
      if (isEmptyUpdate(item.update)) {
        // A peer's step 2 when it had nothing new: nothing to store or send.
        item.origin?.settle()
        return false
      }
      return true
    } catch {
      item.origin?.settle({ code: 'bad-frame', message: `That ${doc.channel} update is not a valid Yjs update; it was not applied.` })
      return false
    }
  }
}
