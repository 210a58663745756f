/**
 * WIRE-21: what a refusal says. Decode errors name the frame kind and the field that failed,
 * so a bad peer's log line says where its bytes went wrong; encode errors name the field and
 * the rule it broke. (Written to kill the mutants that left error texts unchecked.)
 */
import { describe, expect, it } from 'vitest'
import { FrameDecodeError, decodeFrame, encodeFrame, type Frame } from '../src/index.js'

function refusal(bytes: unknown): FrameDecodeError {
  try {
    decodeFrame(bytes as Uint8Array)
  } catch (error) {
    if (error instanceof FrameDecodeError) return error
    throw error
  }
  throw new Error('decoded, but a refusal was expected')
}

/** Every field label (KIND.field) the errors of each truncation of `frame` name, in order. */
function fieldsNamedByTruncations(frame: Frame): string[] {
  const bytes = encodeFrame(frame)
  const header = encodeFrame({ kind: 9, channel: frame.channel }).length // TERM_UNSUBSCRIBE: header only
  const named: string[] = []
  for (let end = header; end < bytes.length; end++) {
    const message = refusal(bytes.subarray(0, end)).message
    const field = /([A-Z_]+\.[a-z]+)/.exec(message.replace(/^[A-Z_]+: /, ''))?.[1]
    if (field && named.at(-1) !== field) named.push(field)
  }
  return named
}

const data = new TextEncoder().encode('abc')

describe('what a refused frame says', () => {
  it.each([
    [{ kind: 4, channel: 'c', id: 300, method: 'm', params: { a: 1 } }, ['RPC_REQUEST.id', 'RPC_REQUEST.method', 'RPC_REQUEST.params']],
    [{ kind: 5, channel: 'c', id: 300, ok: true, result: [1] }, ['RPC_RESPONSE.id', 'RPC_RESPONSE.ok', 'RPC_RESPONSE.result']],
    [{ kind: 5, channel: 'c', id: 300, ok: false, code: 'x', message: 'y', data: 1 }, ['RPC_RESPONSE.id', 'RPC_RESPONSE.ok', 'RPC_RESPONSE.code', 'RPC_RESPONSE.message', 'RPC_RESPONSE.data']],
    [{ kind: 6, channel: 'c', code: 'x', message: 'y', data: 1 }, ['ERROR.code', 'ERROR.message', 'ERROR.data']],
    [{ kind: 7, channel: 'c', seq: 300 }, ['ACK.seq']],
    [{ kind: 8, channel: 'c', generation: 300, offset: 300 }, ['TERM_SUBSCRIBE.generation', 'TERM_SUBSCRIBE.offset']],
    [{ kind: 10, channel: 'c', generation: 300, offset: 300, data }, ['TERM_OUTPUT.generation', 'TERM_OUTPUT.offset', 'TERM_OUTPUT.data']],
    [{ kind: 11, channel: 'c', generation: 300, from: 300, to: 400, cols: 300, rows: 300, snapshot: 'abc' }, ['TERM_GAP.generation', 'TERM_GAP.from', 'TERM_GAP.to', 'TERM_GAP.cols', 'TERM_GAP.rows', 'TERM_GAP.snapshot']],
    [{ kind: 12, channel: 'c', epoch: 300, data }, ['TERM_INPUT.epoch', 'TERM_INPUT.data']],
    [{ kind: 13, channel: 'c', epoch: 300, cols: 300, rows: 300 }, ['TERM_RESIZE.epoch', 'TERM_RESIZE.cols', 'TERM_RESIZE.rows']]
  ] as Array<[Frame, string[]]>)('[WIRE-21] a truncated %o names each field that ran out, in wire order', (frame, fields) => {
    expect(fieldsNamedByTruncations(frame)).toEqual(fields)
  })

  it('[WIRE-21] JSON bodies, the channel, bad values and unknown kinds are named in the message', () => {
    expect(refusal(encodeFrame({ kind: 14, channel: '', event: { type: 'x' } }).subarray(0, 3)).message).toContain('EVENT body')
    expect(refusal(Uint8Array.of(1, 0, 0)).message).toContain('HELLO body')
    expect(refusal(Uint8Array.of(1, 1, 0)).message).toContain('WELCOME body')
    expect(refusal(Uint8Array.of(1, 7)).message).toBe('ACK: truncated: channel length missing')
    expect(refusal(Uint8Array.of(1, 5, 0, 1, 2)).message).toBe('RPC_RESPONSE: RPC_RESPONSE.ok must be 0 or 1, got 2')
    const gap = encodeFrame({ kind: 11, channel: '', generation: 1, from: 3, to: 5, cols: 1, rows: 1, snapshot: '' })
    const swapped = Uint8Array.from(gap)
    swapped[swapped.indexOf(3)] = 9 // from 9 > to 5
    expect(refusal(swapped).message).toBe('TERM_GAP: TERM_GAP.from (9) exceeds TERM_GAP.to (5)')
    expect(refusal(Uint8Array.of(2, 7)).message).toBe('frame version 2, this peer speaks 1')
    const unknown = refusal(Uint8Array.of(1, 99, 1, 0x78))
    expect(unknown.message).toBe('unknown frame kind 99 on channel "x"')
    expect({ code: unknown.code, kind: unknown.kind, channel: unknown.channel }).toEqual({ code: 'unknown-kind', kind: 99, channel: 'x' })
    const unreadable = refusal(Uint8Array.of(1, 99))
    expect(unreadable.message).toBe('unknown frame kind 99')
    expect({ kind: unreadable.kind, channel: unreadable.channel }).toEqual({ kind: 99, channel: undefined })
    expect(refusal('not bytes').message).toBe('a frame must be a Uint8Array')
    expect(refusal(new Uint8Array()).message).toBe('truncated: version byte missing')
    expect(refusal(Uint8Array.of(1)).message).toBe('truncated: kind missing')
  })

  // Every numeric and string field of every kind, given a value it cannot hold.
  const base: Record<number, Record<string, unknown>> = {
    4: { id: 1, method: 'm', params: null },
    5: { id: 1, ok: false, code: 'c', message: 'm' },
    6: { code: 'c', message: 'm' },
    7: { seq: 1 },
    8: { generation: 1, offset: 1 },
    10: { generation: 1, offset: 1, data: new Uint8Array() },
    11: { generation: 1, from: 1, to: 2, cols: 1, rows: 1, snapshot: '' },
    12: { epoch: 1, data: new Uint8Array() },
    13: { epoch: 1, cols: 1, rows: 1 }
  }
  const label: Record<number, string> = { 4: 'RPC_REQUEST', 5: 'RPC_RESPONSE', 6: 'ERROR', 7: 'ACK', 8: 'TERM_SUBSCRIBE', 10: 'TERM_OUTPUT', 11: 'TERM_GAP', 12: 'TERM_INPUT', 13: 'TERM_RESIZE' }
  const cases = Object.entries(base).flatMap(([kind, fields]) =>
    Object.entries(fields)
      .filter(([name]) => name !== 'params' && name !== 'ok')
      .map(([name, value]) => {
        const bad = typeof value === 'number' ? (name === 'from' ? 3 : -1) : typeof value === 'string' ? 5 : 'not bytes'
        const expected = name === 'from' ? 'TERM_GAP.from must not exceed TERM_GAP.to' : `${label[Number(kind)]}.${name} must be`
        return [`${label[Number(kind)]}.${name}`, { kind: Number(kind), channel: '', ...fields, [name]: bad }, expected] as const
      })
  )
  it.each(cases)('[WIRE-21] encodeFrame names %s when it cannot be encoded', (_field, frame, expected) => {
    expect(() => encodeFrame(frame as unknown as Frame)).toThrow(expected)
  })

  it('[WIRE-21] encodeFrame names the header fields too', () => {
    expect(() => encodeFrame({ kind: 7, channel: 5, seq: 1 } as unknown as Frame)).toThrow('channel must be a string')
    expect(() => encodeFrame({ kind: 11, channel: '', generation: 0, from: -1, to: 2, cols: 1, rows: 1, snapshot: '' } as unknown as Frame)).toThrow('TERM_GAP.from must be an integer')
    expect(() => encodeFrame({ kind: -1, channel: '' } as unknown as Frame)).toThrow('kind must be an integer in [0, 2^53 - 1], got -1')
  })

  it.each([
    [{ kind: 4, channel: '', id: -1, method: 'm', params: null }, RangeError, 'RPC_REQUEST.id must be an integer in [0, 2^53 - 1], got -1'],
    [{ kind: 4, channel: '', id: 1.5, method: 'm', params: null }, RangeError, 'RPC_REQUEST.id must be an integer in [0, 2^53 - 1], got 1.5'],
    [{ kind: 4, channel: '', id: '7', method: 'm', params: null }, RangeError, 'RPC_REQUEST.id must be an integer in [0, 2^53 - 1], got 7'],
    [{ kind: 4, channel: '', id: 1, method: 42, params: null }, TypeError, 'RPC_REQUEST.method must be a string'],
    [{ kind: 4, channel: '', id: 1, method: 'a\ud800', params: null }, TypeError, 'RPC_REQUEST.method contains an unpaired surrogate'],
    [{ kind: 5, channel: '', id: -1, ok: true, result: null }, RangeError, 'RPC_RESPONSE.id must be an integer'],
    [{ kind: 5, channel: '', id: 1, ok: 'yes', code: 'c', message: 'm' }, TypeError, 'RPC_RESPONSE.ok must be a boolean'],
    [{ kind: 5, channel: '', id: 1, ok: false, code: 'c', message: 5 }, TypeError, 'RPC_RESPONSE.message must be a string'],
    [{ kind: 8, channel: '', generation: -1, offset: 0 }, RangeError, 'TERM_SUBSCRIBE.generation must be an integer'],
    [{ kind: 10, channel: '', generation: 0, offset: 0, data: 'abc' }, TypeError, 'TERM_OUTPUT.data must be a Uint8Array'],
    [{ kind: 11, channel: '', generation: 0, from: 0, to: -1, cols: 1, rows: 1, snapshot: '' }, RangeError, 'TERM_GAP.to must be an integer'],
    [{ kind: 11, channel: '', generation: 0, from: 5, to: 3, cols: 1, rows: 1, snapshot: '' }, RangeError, 'TERM_GAP.from must not exceed TERM_GAP.to'],
    [{ kind: 99, channel: '' }, TypeError, 'cannot encode kind 99']
  ] as Array<[unknown, ErrorConstructor, string]>)('[WIRE-21] encodeFrame refuses %o with %s naming the field', (frame, type, message) => {
    expect(() => encodeFrame(frame as Frame)).toThrow(type)
    expect(() => encodeFrame(frame as Frame)).toThrow(message)
  })
})
