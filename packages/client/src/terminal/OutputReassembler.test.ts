import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fuzzParams } from '@orchard/protocol/testing'
import { OutputReassembler, type Delivery } from './OutputReassembler.js'


/** What a viewer sees: frames in order per connection; a reconnect resends from an older point. */
type Event = { t: 'chunk'; size: number } | { t: 'duplicate'; back: number } | { t: 'reconnect'; back: number } | { t: 'gap'; skip: number }

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('chunk' as const), size: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('duplicate' as const), back: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reconnect' as const), back: fc.integer({ min: 0, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('gap'  as const), skip: fc.integer({ min: 1, max: 100 }) }) }
)

/** Plays the events against the host's bytes as the relay would send them. */
function play(host: Uint8Array, events: Event[], withGaps: boolean) {
  const viewer = new OutputReassembler()
  const got: Delivery[] = []
  let sent = 0 // how far the relay has sent on the current connection
  const history: Array<{ offset: number; data: Uint8Array }> = []
  const push = (deliveries: Delivery[]) => got.push(...deliveries)
  for (const e of events) {
    if (e.t === 'chunk' && sent < host.length) {
      const data = host.subarray(sent, Math.min(host.length, sent + e.size))
      history.push({ offset: sent, data })
      push(viewer.output(1, sent, data))
      sent += data.length
    } else if (e.t === 'duplicate' && history.length > 0) {
      const again = history[Math.max(0, history.length - 1 - e.back)]!
      push(viewer.output(1, again.offset, again.data))
    } else if (e.t === 'reconnect') {
      // The relay resumes from what the viewer asked for, or from a little before it.
      sent = Math.max(0, viewer.next - e.back)
    } else if (e.t === 'gap' && withGaps && sent < host.length) {
      const to = Math.min(host.length, Math.max(sent, viewer.next) + e.skip)
      push(viewer.gap(1, viewer.next, to, 80, 24, `screen@${to}`))
      sent = to
    }
  }
  // Drain the rest on a last connection.
  sent = viewer.next
  while (sent < host.length) {
    const data = host.subarray(sent, sent + 50)
    push(viewer.output(1, sent, data))
    sent += data.length
  }
  return got
}

describe('OutputReassembler', () => {
  it('[TERM-5] without gaps, the viewer gets exactly the host\'s bytes: each once, in order, whatever the duplicates and reconnects', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2_000 }), fc.array(event, { maxLength: 120 }), (host, events) => {
        const data = play(host, events, false).filter((d): d is Extract<Delivery, { kind: 'data' }> => d.kind === 'data')
        const joined = Buffer.concat(data.map((d) => Buffer.from(d.data)))
        expect(joined.equals(Buffer.from(host))).toBe(true)
        let at = 0
        for (const d of data) {
          expect(d.offset).toBe(at)
          at += d.data.length
        }
      }),
      fuzzParams(300)
    )
  })

  it('[TERM-5] with gaps, every delivered byte is the host\'s byte at that offset, and only gaps skip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2_000 }), fc.array(event, { maxLength: 120 }), (host, events) => {
        let at = 0
        for (const d of play(host, events, true)) {
          if (d.kind === 'gap') {
            expect(d.from).toBe(at)
            expect(d.to).toBeGreaterThan(at)
            at = d.to
          } else if (d.kind === 'data') {
            expect(d.offset).toBe(at)
            expect(Buffer.from(d.data).equals(Buffer.from(host.subarray(at, at + d.data.length)))).toBe(true)
            at += d.data.length
          }
        }
        expect(at).toBe(host.length)
      }),
      fuzzParams(300)
    )
  })

  it('[TERM-5] output that repeats itself is never dropped: dedup is by offset, not content', () => {
    const viewer = new OutputReassembler()
    const same = new TextEncoder().encode('aaaa')
    const first = viewer.output(1, 0, same)
    const second = viewer.output(1, 4, same)
    const duplicate = viewer.output(1, 0, same)
    expect([...first, ...second].filter((d) => d.kind === 'data')).toHaveLength(2)
    expect(duplicate).toEqual([])
    expect(viewer.next).toBe(8)
  })

  it('[TERM-5] a new generation restarts the stream; stale generations are ignored; a hole asks for a resync', () => {
    const viewer = new OutputReassembler()
    expect(viewer.output(1, 0, new Uint8Array([1, 2]))).toMatchObject([{ kind: 'generation', generation: 1 }, { kind: 'data', offset: 0 }])
    expect(viewer.output(2, 0, new Uint8Array([9]))).toMatchObject([{ kind: 'generation', generation: 2 }, { kind: 'data', generation: 2, offset: 0 }])
    expect(viewer.output(1, 2, new Uint8Array([3]))).toEqual([])
    expect(viewer.output(2, 5, new Uint8Array([7]))).toEqual([{ kind: 'resync', generation: 2, offset: 1 }])
  })
})

describe('OutputReassembler, case by case', () => {
  const bytes = (text: string) => new TextEncoder().encode(text)
  const gapOf = (deliveries: Delivery[]) => deliveries.map((d) => (d.kind === 'gap' ? `gap ${d.generation}:${d.from}-${d.to}` : d.kind === 'data' ? `data ${d.generation}:${d.offset}:${new TextDecoder().decode(d.data)}` : `${d.kind} ${d.generation}`))

  it('[TERM-5] a gap in a newer generation announces the generation first and keeps its own from; in this one it starts at our position', () => {
    const viewer = new OutputReassembler({ generation: 1, offset: 4 })
    expect(gapOf(viewer.gap(1, 2, 10, 80, 24, 'screen'))).toEqual(['gap 1:4-10'])
    expect([viewer.generation, viewer.next]).toEqual([1, 10])
    expect(gapOf(viewer.gap(2, 3, 7, 80, 24, 'screen'))).toEqual(['generation 2', 'gap 2:3-7'])
    expect([viewer.generation, viewer.next]).toEqual([2, 7])
  })

  it('[TERM-5] a gap behind our position, or from an older generation, is ignored', () => {
    const viewer = new OutputReassembler({ generation: 2, offset: 10 })
    expect(viewer.gap(2, 0, 10, 80, 24, 's')).toEqual([])
    expect(viewer.gap(2, 0, 9, 80, 24, 's')).toEqual([])
    expect(viewer.gap(1, 0, 50, 80, 24, 's')).toEqual([])
    expect([viewer.generation, viewer.next]).toEqual([2, 10])
    expect(gapOf(viewer.gap(2, 0, 11, 80, 24, 's'))).toEqual(['gap 2:10-11'])
  })

  it('[TERM-5] output overlapping our position delivers only the new bytes; output ending at it delivers nothing', () => {
    const viewer = new OutputReassembler({ generation: 1, offset: 3 })
    expect(viewer.output(1, 0, bytes('abc'))).toEqual([])
    expect(gapOf(viewer.output(1, 1, bytes('bcdef')))).toEqual(['data 1:3:def'])
    expect(viewer.next).toBe(6)
  })
})
