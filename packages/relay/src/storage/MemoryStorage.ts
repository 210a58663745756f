/**
 * The reference implementation: what every other storage must behave like (it runs the
 * same contract suites). Bytes and values are copied on the way in and out, so a caller
 * holding an array it passed in, or one it got back, cannot change what is stored.
 * Nothing survives the process, so it offers no `reopen` to the contract suites.
 */
import { StorageError } from './errors.js'
import type { RelayStorage, StoredDoc } from './types.js'
import { checkBytes, checkEntries, checkKey, checkThroughSeq, compareIds, decodeValue, encodeValue, totalBytes } from './validate.js'

interface Entry {
  seq: number
  data: Uint8Array
}

export class MemoryStorage implements RelayStorage {
  private readonly docs = new Map<string, Entry[]>()
  /** Last seq handed out per doc; kept after removeDoc so a doc id never reuses a seq (STORE-DOC-5). */
  private readonly lastSeqs = new Map<string, number>()
  /** kind -> id -> JSON text. Storing text makes values copies and matches SQLite's JSON round trip. */
  private readonly records = new Map<string, Map<string, string>>()
  private closed = false

  async loadDoc(docId: string): Promise<StoredDoc | undefined> {
    this.checkOpen()
    checkKey('loadDoc: docId', docId)
    const entries = this.docs.get(docId)
    if (entries === undefined || entries.length === 0) return undefined
    const updates = entries.map((entry) => new Uint8Array(entry.data))
    return { updates, lastSeq: (entries[entries.length - 1] as Entry).seq, bytes: totalBytes(updates) }
  }

  async appendUpdates(entries: ReadonlyArray<{ docId: string; update: Uint8Array }>): Promise<number[]> {
    this.checkOpen()
    // Validating first is what makes the batch all-or-nothing here: nothing below can throw.
    checkEntries(entries)
    return entries.map(({ docId, update }) => {
      const seq = (this.lastSeqs.get(docId) ?? 0) + 1
      this.lastSeqs.set(docId, seq)
      let list = this.docs.get(docId)
      if (list === undefined) this.docs.set(docId, (list = []))
      list.push({ seq, data: new Uint8Array(update) })
      return seq
    })
  }

  async compactDoc(docId: string, merged: Uint8Array, throughSeq: number): Promise<void> {
    this.checkOpen()
    checkKey('compactDoc: docId', docId)
    checkBytes(`compactDoc(${JSON.stringify(docId)}): merged`, merged)
    checkThroughSeq(docId, throughSeq, this.lastSeqs.get(docId) ?? 0)
    const entries = this.docs.get(docId)
    // Nothing at or below throughSeq: the doc was removed, or a later compaction already
    // covered these seqs. Writing `merged` now would resurrect or regress it (STORE-DOC-7).
    if (entries === undefined || (entries[0] as Entry).seq > throughSeq) return
    const kept = entries.filter((entry) => entry.seq > throughSeq)
    this.docs.set(docId, [{ seq: throughSeq, data: new Uint8Array(merged) }, ...kept])
  }

  async removeDoc(docId: string): Promise<void> {
    this.checkOpen()
    checkKey('removeDoc: docId', docId)
    this.docs.delete(docId)
  }

  async getRecord<T>(kind: string, id: string): Promise<T | undefined> {
    this.checkOpen()
    checkKey('getRecord: kind', kind)
    checkKey('getRecord: id', id)
    const json = this.records.get(kind)?.get(id)
    return json === undefined ? undefined : decodeValue<T>(json)
  }

  async putRecord<T>(kind: string, id: string, value: T): Promise<void> {
    this.checkOpen()
    checkKey('putRecord: kind', kind)
    checkKey('putRecord: id', id)
    this.write(kind, id, encodeValue(`putRecord(${JSON.stringify(kind)}, ${JSON.stringify(id)})`, value))
  }

  async listRecords<T>(kind: string, idPrefix = ''): Promise<Array<{ id: string; value: T }>> {
    this.checkOpen()
    checkKey('listRecords: kind', kind)
    if (typeof idPrefix !== 'string') throw new TypeError(`listRecords: idPrefix must be a string, got ${typeof idPrefix}`)
    const ofKind = this.records.get(kind)
    if (ofKind === undefined) return []
    return [...ofKind.keys()]
      .filter((id) => id.startsWith(idPrefix))
      .sort(compareIds)
      .map((id) => ({ id, value: decodeValue<T>(ofKind.get(id) as string) }))
  }

  async deleteRecord(kind: string, id: string): Promise<void> {
    this.checkOpen()
    checkKey('deleteRecord: kind', kind)
    checkKey('deleteRecord: id', id)
    this.write(kind, id, undefined)
  }

  async updateRecord<T>(kind: string, id: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    this.checkOpen()
    checkKey('updateRecord: kind', kind)
    checkKey('updateRecord: id', id)
    // Read, fn and write run with no await in between, so no other call can interleave.
    const json = this.records.get(kind)?.get(id)
    const next = fn(json === undefined ? undefined : decodeValue<T>(json))
    const encoded = next === undefined ? undefined : encodeValue(`updateRecord(${JSON.stringify(kind)}, ${JSON.stringify(id)})`, next)
    this.write(kind, id, encoded)
    return next
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private write(kind: string, id: string, json: string | undefined): void {
    let ofKind = this.records.get(kind)
    if (json === undefined) {
      ofKind?.delete(id)
      if (ofKind?.size === 0) this.records.delete(kind)
      return
    }
    if (ofKind === undefined) this.records.set(kind, (ofKind = new Map()))
    ofKind.set(id, json)
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('closed', 'MemoryStorage is closed; create a new one')
  }
}
