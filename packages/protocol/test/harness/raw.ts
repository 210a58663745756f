/** Hand-built wire bytes, independent of encodeFrame, for tests that need malformed frames. */
import * as encoding from 'lib0/encoding'

export type Part = { uint: number } | { str: string } | { u8: number } | { raw: ArrayLike<number> } | { json: unknown }

export function raw(...parts: Part[]): Uint8Array {
  const e = encoding.createEncoder()
  for (const part of parts) {
    if ('uint' in part) encoding.writeVarUint(e, part.uint)
    else if ('str' in part) encoding.writeVarString(e, part.str)
    else if ('u8' in part) encoding.writeUint8(e, part.u8)
    else if ('json' in part) encoding.writeVarString(e, JSON.stringify(part.json))
    else encoding.writeUint8Array(e, Uint8Array.from(part.raw))
  }
  return encoding.toUint8Array(e)
}

/** version 1, kind, channel, then body parts. */
export function rawFrame(kind: number, channel: string, ...body: Part[]): Uint8Array {
  return raw({ u8: 1 }, { uint: kind }, { str: channel }, ...body)
}

export function concat(...arrays: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0))
  let at = 0
  for (const a of arrays) {
    out.set(a, at)
    at += a.length
  }
  return out
}

/** Runs fn and returns what it threw (undefined when it returned). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}
