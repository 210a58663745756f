import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameDecodeError, decodeFrame, encodeFrame, isFrameKind } from '../src/index.js'
import { anyFrame } from './harness/arbitraries.js'
import { fuzzParams } from '../src/testing/index.js'
import { applyMutation, mutation } from './harness/mutate.js'

/** The WIRE-4 oracle: a Frame with a known kind comes back, or FrameDecodeError is thrown. */
function decodesOrRefuses(bytes: Uint8Array): void {
  let frame: unknown
  try {
    frame = decodeFrame(bytes)
  } catch (err) {
    if (err instanceof FrameDecodeError) return
    throw new Error(`decodeFrame threw ${String(err)} (not FrameDecodeError) for ${Buffer.from(bytes).toString('hex')}`)
  }
  expect(isFrameKind((frame as { kind: number }).kind)).toBe(true)
}

describe('decodeFrame on hostile input', () => {
  it('[WIRE-4] arbitrary bytes decode or throw FrameDecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 128 }), decodesOrRefuses), fuzzParams(1000))
  })

  it('[WIRE-4] arbitrary bytes behind a v1 header decode or throw FrameDecodeError', () => {
    const v1 = fc.tuple(fc.nat(20), fc.uint8Array({ maxLength: 96 })).map(([kind, rest]) => Uint8Array.from([1, kind, ...rest]))
    fc.assert(fc.property(v1, decodesOrRefuses), fuzzParams(1000))
  })

  it('[WIRE-4] mutated valid frames decode or throw FrameDecodeError', () => {
    const mutated = fc
      .tuple(anyFrame, fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([frame, mutations]) => mutations.reduce(applyMutation, encodeFrame(frame)))
    fc.assert(fc.property(mutated, decodesOrRefuses), fuzzParams(1000))
  })

  it('[WIRE-4] every truncation of a valid frame decodes or throws FrameDecodeError', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        const bytes = encodeFrame(frame)
        for (let end = 0; end <= bytes.length; end++) decodesOrRefuses(bytes.subarray(0, end))
      }),
      fuzzParams(100)
    )
  })

  // The name says only what the body checks: these 1 MiB inputs are refused with
  // FrameDecodeError (no crash, no huge allocation). How long decoding takes is measured in
  // bench/, never asserted here (a timed assertion is flaky on a loaded machine).
  it('[WIRE-4] large adversarial inputs (1 MiB of varUint continuation bytes, a length one byte past the end) are refused with FrameDecodeError', () => {
    const mib = 1 << 20
    const inputs = [
      new Uint8Array(mib).fill(0x80),
      new Uint8Array(mib).fill(0xff),
      Uint8Array.from({ length: mib }, (_, i) => (i === 0 ? 1 : 0x80)),
      Uint8Array.from({ length: mib }, (_, i) => (i === 0 ? 1 : i === 1 ? 7 : 0xff)),
      // A channel that declares ~1 MiB but stops one byte short.
      Uint8Array.from({ length: mib }, (_, i) => [1, 7, 0x80, 0x80, 0x40][i] ?? 0x61)
    ]
    for (const input of inputs) {
      expect(() => decodeFrame(input)).toThrow(FrameDecodeError)
    }
  })
})
