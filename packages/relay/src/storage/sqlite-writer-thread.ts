/**
 * The worker side of ThreadedSqliteStorage: its own connection to the same SQLite file,
 * doing the doc writes (append, compact, remove) so their commits and fsyncs never block
 * the relay's event loop. One message, one transaction, in order.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { SqliteStorage } from './SqliteStorage.js'
import type { Durability } from './sqlite-schema.js'

export type WriterRequest =
  | { id: number; op: 'append'; entries: Array<{ docId: string; update: Uint8Array }> }
  | { id: number; op: 'compact'; docId: string; merged: Uint8Array; throughSeq: number }
  | { id: number; op: 'remove'; docId: string }
  | { id: number; op: 'close' }

export type WriterReply = { id: number; ok: true; result?: unknown } | { id: number; ok: false; name: string; message: string; code?: string }

const { path, durability, busyTimeoutMs } = workerData as { path: string; durability: Durability; busyTimeoutMs: number }
const port = parentPort
if (!port) throw new Error('sqlite-writer-thread must run in a worker thread')

let storage: SqliteStorage
try {
  // The main thread holds the file's lock and has checked it already (STORE-SQL-9, -10).
  storage = new SqliteStorage({ path, durability, busyTimeoutMs, exclusive: false, startupCheck: 'none' })
  port.postMessage({ id: 0, ok: true } satisfies WriterReply)
} catch (error) {
  port.postMessage(failure(0, error))
  process.exit(1)
}

port.on('message', (request: WriterRequest) => {
  void handle(request).then(
    (result) => {
      port.postMessage({ id: request.id, ok: true, ...(result !== undefined ? { result } : {}) } satisfies WriterReply)
      // The answer to 'close' goes out before the port does.
      if (request.op === 'close') port.close()
    },
    (error: unknown) => port.postMessage(failure(request.id, error))
  )
})

async function handle(request: WriterRequest): Promise<unknown> {
  switch (request.op) {
    case 'append':
      return storage.appendUpdates(request.entries)
    case 'compact':
      return storage.compactDoc(request.docId, request.merged, request.throughSeq)
    case 'remove':
      return storage.removeDoc(request.docId)
    case 'close':
      await storage.close()
      return undefined
  }
}

function failure(id: number, error: unknown): WriterReply {
  const err = error as Error & { code?: string }
  return { id, ok: false, name: err?.name ?? 'Error', message: err?.message ?? String(error), ...(typeof err?.code === 'string' ? { code: err.code } : {}) }
}
