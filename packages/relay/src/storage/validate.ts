/**
 * Input checks and value encoding shared by every implementation, so that the in-memory
 * reference and SQLite refuse the same inputs with the same errors (STORE-DOC-4,
 * STORE-REC-7, STORE-REC-8) and a caller bug never reaches a half-written transaction.
 */

/** With the u flag a well-formed surrogate pair is one astral code point, so this only matches unpaired halves. */
const LONE_SURROGATE = /\p{Cs}/u

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null) return 'null'
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.byteLength})`
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

/**
 * Doc ids, record kinds and record ids must be non-empty, well-formed Unicode: SQLite stores
 * text as UTF-8, where an unpaired surrogate would turn into U+FFFD and two different ids
 * would collide.
 */
export function checkKey(what: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${what} must be a non-empty string, got ${show(value)}`)
  }
  if (LONE_SURROGATE.test(value)) {
    throw new TypeError(`${what} ${JSON.stringify(value)} contains an unpaired UTF-16 surrogate; use well-formed Unicode`)
  }
}

export function checkBytes(what: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array, got ${show(value)}`)
}

/** Checks a whole appendUpdates batch before anything is written, so a bad entry cannot leave half a batch behind. */
export function checkEntries(entries: unknown): asserts entries is ReadonlyArray<{ docId: string; update: Uint8Array }> {
  if (!Array.isArray(entries)) throw new TypeError(`appendUpdates expects an array of { docId, update }, got ${show(entries)}`)
  entries.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw new TypeError(`appendUpdates entry ${i} must be { docId, update }, got ${show(entry)}`)
    const { docId, update } = entry as { docId?: unknown; update?: unknown }
    checkKey(`appendUpdates entry ${i}: docId`, docId)
    checkBytes(`appendUpdates entry ${i} (doc ${JSON.stringify(docId)}): update`, update)
  })
}

/**
 * A compaction may only cover seqs that were handed out. A larger throughSeq means the
 * compactor merged updates this store never assigned, which is a bug in the caller.
 */
export function checkThroughSeq(docId: string, throughSeq: unknown, lastAssigned: number): asserts throughSeq is number {
  if (typeof throughSeq !== 'number' || !Number.isSafeInteger(throughSeq) || throughSeq < 1) {
    throw new RangeError(`compactDoc(${JSON.stringify(docId)}): throughSeq must be a positive integer, got ${String(throughSeq)}`)
  }
  if (throughSeq > lastAssigned) {
    throw new RangeError(
      `compactDoc(${JSON.stringify(docId)}): throughSeq ${throughSeq} is beyond the last seq ever assigned to this doc (${lastAssigned}); ` +
        'pass the lastSeq that loadDoc returned together with the updates you merged'
    )
  }
}

/**
 * Records are stored as JSON text in every implementation, so a value reads back as
 * JSON.parse(JSON.stringify(value)) everywhere, never as a live object.
 */
export function encodeValue(where: string, value: unknown): string {
  if (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function') {
    // JSON.stringify(promise) is "{}": storing that silently would lose the caller's update.
    throw new TypeError(`${where}: got a Promise; the value must be plain JSON (updateRecord's fn must be synchronous)`)
  }
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new TypeError(`${where}: the value is not JSON-serializable (${(error as Error).message})`, { cause: error })
  }
  if (json === undefined) {
    throw new TypeError(`${where}: a value of type ${typeof value} cannot be stored as JSON; use deleteRecord to remove a record`)
  }
  return json
}

export function decodeValue<T>(json: string): T {
  return JSON.parse(json) as T
}

/**
 * Orders ids by Unicode code point, which is the UTF-8 byte order SQLite's BINARY collation
 * uses. Plain `<` compares UTF-16 code units and puts U+10000.. before U+E000..U+FFFF.
 */
export function compareIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

/** Moves surrogates above U+E000..U+FFFF so code-unit order matches code-point order. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800
  if (unit >= 0xd800) return unit + 0x2000
  return unit
}

export function totalBytes(updates: readonly Uint8Array[]): number {
  let bytes = 0
  for (const update of updates) bytes += update.byteLength
  return bytes
}
