/**
 * The relay's two storage seams. Small on purpose (STYLE "For Orchard" 3): a PostgreSQL or
 * Redis-backed store only has to implement these and pass the contract suites in
 * ./contract/ (RULES.md lists what they check).
 */

/** Yjs updates (V1 encoding) of one document, oldest first; a compacted snapshot is simply the first entry. */
export interface StoredDoc {
  updates: Uint8Array[]
  /** The seq of the newest entry: pass it to compactDoc as throughSeq after merging `updates`. */
  lastSeq: number
  /** Sum of the entries' byte lengths. */
  bytes: number
}

export interface DocStorage {
  /** Everything stored for a doc, oldest first, or undefined if nothing was ever stored. */
  loadDoc(docId: string): Promise<StoredDoc | undefined>
  /**
   * Appends updates for one or more docs in ONE durable transaction (all or nothing).
   * Resolves only once durable. Returns the per-doc sequence number assigned to each entry
   * (seqs start at 1 per doc and only grow, also across compactions and restarts).
   */
  appendUpdates(entries: ReadonlyArray<{ docId: string; update: Uint8Array }>): Promise<number[]>
  /**
   * Atomically replaces all updates of docId with seq <= throughSeq by one entry `merged`
   * (keeps later ones). Used by the compactor.
   */
  compactDoc(docId: string, merged: Uint8Array, throughSeq: number): Promise<void>
  /** Deletes the doc entirely. */
  removeDoc(docId: string): Promise<void>
}

/** Small typed records: workspaces, members, invites, lease epochs, activity. Values are JSON-serializable. */
export interface RecordStorage {
  getRecord<T>(kind: string, id: string): Promise<T | undefined>
  putRecord<T>(kind: string, id: string, value: T): Promise<void>
  /** All records of a kind whose id starts with idPrefix (default ''), ordered by id. */
  listRecords<T>(kind: string, idPrefix?: string): Promise<Array<{ id: string; value: T }>>
  deleteRecord(kind: string, id: string): Promise<void>
  /**
   * Atomic read-modify-write: fn gets the current value (or undefined) and returns the new
   * value (undefined = delete). Concurrent updateRecord calls on the same key never lose an
   * update. Returns what fn returned. fn is synchronous.
   */
  updateRecord<T>(kind: string, id: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined>
}

export interface RelayStorage extends DocStorage, RecordStorage {
  close(): Promise<void>
}
