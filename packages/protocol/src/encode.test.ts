import { describe, expect, it } from 'vitest'
import {
  FrameKind, decodeFrame, encodeFrame, errorFrame, rpcErrorFrame, rpcOkFrame, rpcRequestFrame, syncFrame, type Frame
} from './index.js'
import { thrown } from '../test/harness/raw.js'

// Frames the types forbid but JavaScript callers (or casts) can still build.
function loose(frame: Record<string, unknown>): Frame {
  return frame as unknown as Frame
}

describe('encodeFrame', () => {
  it('[WIRE-14] refuses numeric fields outside [0, 2^53 - 1] or not integers with RangeError', () => {
    for (const seq of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '1', undefined]) {
      expect(thrown(() => encodeFrame(loose({ kind: FrameKind.ack, channel: '', seq }))), String(seq)).toBeInstanceOf(RangeError)
    }
    expect(thrown(() => encodeFrame(loose({ kind: FrameKind.termResize, channel: 'a', epoch: 1, cols: -80, rows: 24 })))).toBeInstanceOf(RangeError)
    expect(thrown(() => encodeFrame(loose({ kind: 1.5, channel: '' })))).toBeInstanceOf(RangeError)
  })

  it('[WIRE-14] refuses unpaired surrogates, non-byte bodies, wrong JSON shapes and unknown kinds with TypeError', () => {
    const cases: Array<Record<string, unknown>> = [
      { kind: FrameKind.ack, channel: 'a\ud800', seq: 1 },
      { kind: FrameKind.error, channel: '', code: 'internal', message: '\udc00' },
      { kind: FrameKind.sync, channel: 'workspace', body: [0, 1] },
      { kind: FrameKind.termInput, channel: 'a', epoch: 1, data: 'y' },
      { kind: FrameKind.hello, channel: '', protocol: 1, credential: 'c' },
      { kind: FrameKind.welcome, channel: '', workspaceId: 'w', memberId: 'm', memberName: 'n', role: 'root', instanceId: 'i', limits: { maxFrameBytes: 1, maxDocBytes: 1 }, server: 's' },
      { kind: FrameKind.event, channel: '', event: { kind: 'x' } },
      { kind: FrameKind.rpcResponse, channel: '', id: 1, ok: 'yes', result: 1 },
      { kind: 15, channel: '' },
      { kind: FrameKind.ack, channel: 5, seq: 1 }
    ]
    for (const frame of cases) expect(thrown(() => encodeFrame(loose(frame))), JSON.stringify(frame)).toBeInstanceOf(TypeError)
    // Paired surrogates are fine.
    expect(decodeFrame(encodeFrame({ kind: FrameKind.ack, channel: '\ud83c\udf33', seq: 1 }))).toMatchObject({ channel: '🌳' })
  })

  it('[WIRE-14] writes HELLO/WELCOME keys in a fixed order from the declared fields only', () => {
    const a = encodeFrame(loose({ kind: FrameKind.hello, channel: '', instanceId: 'i', credential: 'c', protocol: 1, extra: 'dropped' }))
    const b = encodeFrame({ kind: FrameKind.hello, channel: '', protocol: 1, credential: 'c', instanceId: 'i' })
    expect(a).toEqual(b)
    expect(new TextDecoder().decode(b)).toContain('{"protocol":1,"credential":"c","instanceId":"i"}')
  })

  it('[WIRE-14] writes undefined JSON values as null', () => {
    expect(decodeFrame(encodeFrame(rpcRequestFrame(1, 'ping', undefined)))).toMatchObject({ params: null })
    expect(decodeFrame(encodeFrame(rpcOkFrame(1, undefined)))).toMatchObject({ ok: true, result: null })
    expect(decodeFrame(encodeFrame(errorFrame('internal', 'boom', undefined)))).toStrictEqual({
      kind: FrameKind.error, channel: '', code: 'internal', message: 'boom'
    })
  })

  it('[WIRE-11] refuses a TERM_GAP whose from exceeds to', () => {
    const gap = { kind: FrameKind.termGap, channel: 'a', generation: 1, from: 5, to: 4, cols: 80, rows: 24, snapshot: '' } as const
    expect(thrown(() => encodeFrame(gap))).toBeInstanceOf(RangeError)
  })

  it('[WIRE-10] builders write absent data for undefined and null, and failed responses carry code and message', () => {
    expect(rpcErrorFrame(3, 'not-found', 'gone', null)).toStrictEqual({
      kind: FrameKind.rpcResponse, channel: '', id: 3, ok: false, code: 'not-found', message: 'gone'
    })
    const frame = rpcErrorFrame(3, 'conflict', 'taken', { holder: 'b' }, 'agent-1')
    expect(decodeFrame(encodeFrame(frame))).toStrictEqual(frame)
  })

  it('[WIRE-15] returns a fresh array: later changes to the frame or other encodings do not touch it', () => {
    const body = Uint8Array.of(0, 1, 2)
    const frame = syncFrame('workspace', body)
    const first = encodeFrame(frame)
    const second = encodeFrame(frame)
    expect(first).not.toBe(second)
    expect(first.buffer).not.toBe(body.buffer)
    body[0] = 9
    expect(Array.from(first.subarray(first.length - 3))).toEqual([0, 1, 2])
    expect(first).toEqual(second)
  })
})
