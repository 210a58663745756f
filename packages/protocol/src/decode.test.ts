import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { FrameDecodeError, FrameKind, decodeFrame, encodeFrame, peekKind, type Frame } from './index.js'
import { concat, raw, rawFrame, thrown } from '../test/harness/raw.js'
import { fromHex } from '../test/harness/hex.js'
import type { FrameFixture } from '../test/harness/fixture-json.js'

const fixtures = JSON.parse(
  readFileSync(new URL('../test/fixtures/v1/frames.json', import.meta.url), 'utf8')
) as FrameFixture[]

function decodeError(bytes: Uint8Array): FrameDecodeError {
  const err = thrown(() => decodeFrame(bytes))
  if (!(err instanceof FrameDecodeError)) throw new Error(`expected FrameDecodeError, got ${String(err)}`)
  return err
}

const hello = { protocol: 1, credential: 'c', instanceId: 'i' }
const welcome = {
  workspaceId: 'w', memberId: 'm', memberName: 'n', role: 'viewer', instanceId: 'i',
  limits: { maxFrameBytes: 1, maxDocBytes: 2 }, server: 's'
}

describe('decodeFrame', () => {
  it('[WIRE-2] refuses any version byte other than 1 with unsupported-version, reading nothing more', () => {
    for (const version of [0, 2, 3, 127, 255]) {
      // The rest is garbage for v1; a v2 peer may lay frames out differently, so it is not read.
      const err = decodeError(Uint8Array.from([version, 0xff, 0xff, 0xff]))
      expect(err.code).toBe('unsupported-version')
      expect(err.version).toBe(version)
      expect(err.kind).toBeUndefined()
    }
  })

  it('[WIRE-3] names the unknown kind and its channel', () => {
    const err = decodeError(rawFrame(15, 'workspace', { raw: [1, 2, 3] }))
    expect(err.code).toBe('unknown-kind')
    expect(err.kind).toBe(15)
    expect(err.channel).toBe('workspace')
    expect(err.message).toContain('15')
  })

  it('[WIRE-3] names the kind alone when the channel is unreadable, and handles huge kinds', () => {
    const truncated = decodeError(raw({ u8: 1 }, { uint: 40 }, { uint: 10 }, { raw: [0x61] }))
    expect(truncated.code).toBe('unknown-kind')
    expect(truncated.kind).toBe(40)
    expect(truncated.channel).toBeUndefined()
    const huge = decodeError(rawFrame(2 ** 53 - 1, 'x'))
    expect(huge.code).toBe('unknown-kind')
    expect(huge.kind).toBe(2 ** 53 - 1)
  })

  it('[WIRE-5] refuses every strict prefix of every golden frame', () => {
    for (const fixture of fixtures) {
      const bytes = fromHex(fixture.hex)
      const kind = fixture.frame.kind
      // SYNC/AWARENESS bodies are "rest of frame", so only prefixes that cut the header are invalid.
      const restOfFrame = kind === FrameKind.sync || kind === FrameKind.awareness
      const headerLength = restOfFrame ? bytes.length - (fixture.frame['body'] as string).length / 2 : bytes.length
      for (let end = 0; end < headerLength; end++) {
        const err = decodeError(bytes.subarray(0, end))
        expect(err.code, `${fixture.name} cut at ${end}`).toBe('bad-frame')
      }
    }
  })

  it('[WIRE-5] refuses varUints above 2^53 - 1, padded varUints and long continuation runs', () => {
    expect(decodeFrame(rawFrame(FrameKind.ack, '', { uint: 2 ** 53 - 1 }))).toMatchObject({ seq: 2 ** 53 - 1 })
    const twoTo53 = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]
    expect(decodeError(rawFrame(FrameKind.ack, '', { raw: twoTo53 })).code).toBe('bad-frame')
    expect(decodeError(rawFrame(FrameKind.ack, '', { raw: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f] })).code).toBe('bad-frame')
    expect(decodeError(rawFrame(FrameKind.ack, '', { raw: [0x81, 0x00] })).code).toBe('bad-frame')
    // lib0's readVarUint returns NaN for this (0 * Infinity); the checked reader refuses it.
    expect(decodeError(rawFrame(FrameKind.ack, '', { raw: [...new Array<number>(200).fill(0x80), 1] })).code).toBe('bad-frame')
  })

  it('[WIRE-5] refuses lengths past the end without allocating them', () => {
    const err = decodeError(rawFrame(FrameKind.termOutput, 'a', { uint: 0 }, { uint: 0 }, { uint: 2 ** 53 - 1 }))
    expect(err.code).toBe('bad-frame')
    expect(err.message).toMatch(/declares/)
    expect(decodeError(raw({ u8: 1 }, { uint: FrameKind.ack }, { uint: 2 ** 40 })).code).toBe('bad-frame')
  })

  it('[WIRE-5] refuses invalid UTF-8 (including encoded surrogates) and keeps a leading BOM', () => {
    expect(decodeError(raw({ u8: 1 }, { uint: FrameKind.ack }, { uint: 2 }, { raw: [0xc3, 0x28] }, { uint: 1 })).code).toBe('bad-frame')
    expect(decodeError(raw({ u8: 1 }, { uint: FrameKind.ack }, { uint: 3 }, { raw: [0xed, 0xa0, 0x80] }, { uint: 1 })).code).toBe('bad-frame')
    expect(decodeFrame(rawFrame(FrameKind.ack, '\ufeffbom', { uint: 1 }))).toMatchObject({ channel: '\ufeffbom' })
  })

  it('[WIRE-6] refuses trailing bytes after every fixed-layout body, naming kind and channel', () => {
    for (const fixture of fixtures) {
      const kind = fixture.frame.kind
      if (kind === FrameKind.sync || kind === FrameKind.awareness) continue
      const err = decodeError(concat(fromHex(fixture.hex), Uint8Array.of(0)))
      expect(err.code, fixture.name).toBe('bad-frame')
      expect(err.kind, fixture.name).toBe(kind)
      expect(err.channel, fixture.name).toBe(fixture.frame.channel)
    }
  })

  it('[WIRE-7] SYNC and AWARENESS bodies own the rest of the frame, empty included', () => {
    for (const kind of [FrameKind.sync, FrameKind.awareness]) {
      const body = Uint8Array.from([0, 3, 1, 1, 2, 0xff, 0])
      expect(decodeFrame(rawFrame(kind, 'workspace', { raw: body }))).toEqual({ kind, channel: 'workspace', body })
      expect(decodeFrame(rawFrame(kind, 'workspace'))).toEqual({ kind, channel: 'workspace', body: new Uint8Array() })
    }
  })

  it('[WIRE-9] refuses invalid JSON and JSON of the wrong shape', () => {
    const bad: Array<[number, unknown]> = [
      [FrameKind.hello, 'not an object'],
      [FrameKind.hello, null],
      [FrameKind.hello, [hello]],
      [FrameKind.hello, { ...hello, protocol: -1 }],
      [FrameKind.hello, { ...hello, protocol: 1.5 }],
      [FrameKind.hello, { ...hello, credential: 5 }],
      [FrameKind.hello, { protocol: 1, credential: 'c' }],
      [FrameKind.hello, { ...hello, client: false }],
      [FrameKind.welcome, { ...welcome, role: 'admin' }],
      [FrameKind.welcome, { ...welcome, limits: null }],
      [FrameKind.welcome, { ...welcome, limits: { maxFrameBytes: '1', maxDocBytes: 2 } }],
      [FrameKind.welcome, { ...welcome, limits: { maxFrameBytes: 1, maxDocBytes: 2, viewerWindowBytes: -1 } }],
      [FrameKind.welcome, { ...welcome, server: undefined }],
      [FrameKind.event, { type: 5 }],
      [FrameKind.event, 'lease-lost'],
      [FrameKind.event, null]
    ]
    for (const [kind, body] of bad) {
      const err = decodeError(rawFrame(kind, '', { json: body }))
      expect(err.code, JSON.stringify(body)).toBe('bad-frame')
      expect(err.kind).toBe(kind)
    }
    for (const text of ['', '{', '{"a":1}x', 'undefined', "{'a':1}"]) {
      expect(decodeError(rawFrame(FrameKind.hello, '', { str: text })).code).toBe('bad-frame')
      expect(decodeError(rawFrame(FrameKind.rpcRequest, '', { uint: 1 }, { str: 'm' }, { str: text })).code).toBe('bad-frame')
    }
  })

  it('[WIRE-9] keeps only declared HELLO/WELCOME fields, reads null options as absent, keeps all EVENT fields', () => {
    const decodedHello = decodeFrame(rawFrame(FrameKind.hello, '', { json: { ...hello, label: null, extra: 1, client: 'x' } }))
    expect(decodedHello).toStrictEqual({ kind: FrameKind.hello, channel: '', ...hello, client: 'x' })
    const decodedWelcome = decodeFrame(rawFrame(FrameKind.welcome, '', { json: { ...welcome, future: true, limits: { ...welcome.limits, more: 1 } } }))
    expect(decodedWelcome).toStrictEqual({ kind: FrameKind.welcome, channel: '', ...welcome })
    const event = { type: 'lease-lost', agentId: 'a', nested: { epoch: 3 } }
    expect(decodeFrame(rawFrame(FrameKind.event, '', { json: event }))).toStrictEqual({ kind: FrameKind.event, channel: '', event })
  })

  it('[WIRE-9] carries the optional join name on HELLO and the issued credential on WELCOME', () => {
    const join = { ...hello, name: 'Ben' }
    expect(decodeFrame(encodeFrame({ kind: FrameKind.hello, channel: '', ...join }))).toStrictEqual({ kind: FrameKind.hello, channel: '', ...join })
    const joined = { ...welcome, role: 'editor' as const, credential: 'orc_m.ws.member.secret' }
    expect(decodeFrame(encodeFrame({ kind: FrameKind.welcome, channel: '', ...joined }))).toStrictEqual({ kind: FrameKind.welcome, channel: '', ...joined })
    expect(decodeError(rawFrame(FrameKind.hello, '', { json: { ...hello, name: 5 } })).code).toBe('bad-frame')
  })

  it('[WIRE-10] accepts ok bytes 0 and 1 only, and reads null data as absent', () => {
    for (const ok of [2, 0x80, 0xff]) {
      expect(decodeError(rawFrame(FrameKind.rpcResponse, '', { uint: 1 }, { u8: ok }, { json: null })).code).toBe('bad-frame')
    }
    expect(decodeFrame(rawFrame(FrameKind.rpcResponse, '', { uint: 1 }, { u8: 1 }, { json: null }))).toStrictEqual({
      kind: FrameKind.rpcResponse, channel: '', id: 1, ok: true, result: null
    })
    const failed = decodeFrame(rawFrame(FrameKind.rpcResponse, '', { uint: 1 }, { u8: 0 }, { str: 'timeout' }, { str: 'slow' }, { json: null }))
    expect(failed).toStrictEqual({ kind: FrameKind.rpcResponse, channel: '', id: 1, ok: false, code: 'timeout', message: 'slow' })
    const error = decodeFrame(rawFrame(FrameKind.error, 'x', { str: 'internal' }, { str: 'boom' }, { json: [1] }))
    expect(error).toStrictEqual({ kind: FrameKind.error, channel: 'x', code: 'internal', message: 'boom', data: [1] })
    const noData = decodeFrame(rawFrame(FrameKind.error, 'x', { str: 'internal' }, { str: 'boom' }, { json: null }))
    expect('data' in noData).toBe(false)
  })

  it('[WIRE-11] refuses a TERM_GAP whose from exceeds to, and accepts an empty gap', () => {
    const gap = (from: number, to: number): Uint8Array =>
      rawFrame(FrameKind.termGap, 'a', { uint: 1 }, { uint: from }, { uint: to }, { uint: 80 }, { uint: 24 }, { str: '' })
    expect(decodeError(gap(11, 10)).code).toBe('bad-frame')
    expect(decodeFrame(gap(10, 10))).toMatchObject({ from: 10, to: 10 })
  })

  it('[WIRE-15] returns byte fields as views of the input', () => {
    const input = rawFrame(FrameKind.termOutput, 'a', { uint: 0 }, { uint: 0 }, { uint: 3 }, { raw: [7, 8, 9] })
    const frame = decodeFrame(input) as Extract<Frame, { kind: 10 }>
    expect(frame.data.buffer).toBe(input.buffer)
    input[input.length - 1] = 42
    expect(Array.from(frame.data)).toEqual([7, 8, 42])
  })

  it('[WIRE-16] peekKind reads the kind of a v1 frame and nothing else', () => {
    for (const fixture of fixtures) expect(peekKind(fromHex(fixture.hex))).toBe(fixture.frame.kind)
    expect(peekKind(rawFrame(99, 'x'))).toBe(99)
    expect(peekKind(Uint8Array.of(1, FrameKind.ack))).toBe(FrameKind.ack)
    expect(peekKind(new Uint8Array())).toBeUndefined()
    expect(peekKind(Uint8Array.of(1))).toBeUndefined()
    expect(peekKind(Uint8Array.of(1, 0x80))).toBeUndefined()
    expect(peekKind(Uint8Array.of(2, FrameKind.ack))).toBeUndefined()
    expect(peekKind(encodeFrame({ kind: FrameKind.termUnsubscribe, channel: 'a' }))).toBe(FrameKind.termUnsubscribe)
  })

  it('[WIRE-4] refuses values that are not Uint8Arrays with FrameDecodeError', () => {
    for (const value of [undefined, null, 'frame', [1, 2], new ArrayBuffer(4), { length: 3 }]) {
      const err = thrown(() => decodeFrame(value as unknown as Uint8Array))
      expect(err).toBeInstanceOf(FrameDecodeError)
    }
  })
})
