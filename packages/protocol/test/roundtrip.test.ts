import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameDecodeError, FrameKind, decodeFrame, encodeFrame, type Frame } from '../src/index.js'
import { anyFrame, frameArbitraries } from './harness/arbitraries.js'
import { fuzzParams } from '../src/testing/index.js'

const jsonKinds: ReadonlySet<number> = new Set([
  FrameKind.hello, FrameKind.welcome, FrameKind.rpcRequest, FrameKind.rpcResponse, FrameKind.error, FrameKind.event
])

// Plausible inputs: a v1 header with a small kind, then random bytes. Random bytes alone almost
// never start with 0x01, so this is what exercises the accept path of the canonical-form check.
const plausible = fc
  .tuple(fc.nat(16), fc.uint8Array({ maxLength: 48 }))
  .map(([kind, rest]) => Uint8Array.from([1, kind, ...rest]))

function tryDecode(bytes: Uint8Array): Frame | undefined {
  try {
    return decodeFrame(bytes)
  } catch (err) {
    if (err instanceof FrameDecodeError) return undefined
    throw err
  }
}

describe('round trip', () => {
  it.each(Object.entries(frameArbitraries))('[WIRE-12] decode(encode(f)) deep-equals f for every %s frame', (_name, arbitrary) => {
    fc.assert(
      fc.property(arbitrary, (frame) => {
        expect(decodeFrame(encodeFrame(frame))).toStrictEqual(frame)
      }),
      fuzzParams(200)
    )
  })

  it('[WIRE-12] decode(encode(f)) deep-equals f across mixed kinds', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        expect(decodeFrame(encodeFrame(frame))).toStrictEqual(frame)
      }),
      fuzzParams(1000)
    )
  })

  it('[WIRE-13] accepted bytes re-encode stably, and byte-identically for kinds without JSON', () => {
    let accepted = 0
    fc.assert(
      fc.property(fc.oneof(plausible, anyFrame.map(encodeFrame)), (bytes) => {
        const frame = tryDecode(bytes)
        if (frame === undefined) return
        accepted++
        const again = encodeFrame(frame)
        expect(encodeFrame(decodeFrame(again))).toEqual(again)
        if (!jsonKinds.has(frame.kind)) expect(again).toEqual(bytes)
      }),
      fuzzParams(1000)
    )
    expect(accepted).toBeGreaterThan(0)
  })
})
