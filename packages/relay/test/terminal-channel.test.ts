/**
 * TerminalChannel alone (TERM-1, TERM-2, TERM-3, TERM-4, TERM-9): one agent's terminal with
 * scripted viewers (a socket buffer the test fills and drains), a host snapshot the test
 * answers, and fake timers for the drain poll. Every frame a viewer gets is decoded, so
 * offsets, gaps and snapshots are checked byte for byte. (Written for the mutants the
 * end-to-end terminal tests left alive.)
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FrameKind, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import type { RoomPeer } from '../src/connection/types.js'
import { RingBudget } from '../src/terminals/RingBudget.js'
import { TerminalChannel, type HostSnapshot, type TerminalChannelOptions } from '../src/terminals/TerminalChannel.js'

const AGENT = 'ag_test'
const HIGH_WATER = 100
const text = (value: string) => new TextEncoder().encode(value)
const read = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** A viewer's socket: what it was sent, decoded, and a buffer that grows with every send until drained. */
interface Viewer {
  raw: Uint8Array[]
  /** Frames as compact strings: `out g/o:text`, `gap g from-to cols x rows "snapshot"`, `error code`. */
  seen(): string[]
  bufferedAmount: number
  /** When true, everything sent stays queued (a reader that stopped); output counts its data bytes, so sizes read plainly. */
  stalled: boolean
  drain(): void
}

function viewer(): Viewer & RoomPeer {
  const raw: Uint8Array[] = []
  const self = {
    raw,
    bufferedAmount: 0,
    stalled: false,
    seen: () => raw.map((bytes) => describeFrame(decodeFrame(bytes))),
    drain() {
      self.bufferedAmount = 0
    },
    sendRaw(bytes: Uint8Array) {
      raw.push(bytes)
      if (!self.stalled) return
      const frame = decodeFrame(bytes)
      self.bufferedAmount += frame.kind === FrameKind.termOutput ? frame.data.byteLength : bytes.byteLength
    },
    sendFrame(frame: Frame) {
      self.sendRaw(encodeFrame(frame))
    }
  }
  return self as unknown as Viewer & RoomPeer
}

function describeFrame(frame: Frame): string {
  expect(frame.channel).toBe(AGENT)
  if (frame.kind === FrameKind.termOutput) return `out ${frame.generation}/${frame.offset}:${read(frame.data)}`
  if (frame.kind === FrameKind.termGap) return `gap ${frame.generation} ${frame.from}-${frame.to} ${frame.cols}x${frame.rows} "${frame.snapshot}"`
  if (frame.kind === FrameKind.error) return `error ${frame.code}`
  return `kind ${frame.kind}`
}

let snapshots: Array<HostSnapshot | null | Error>
let snapshotCalls: number
let channel: TerminalChannel

function open(options: Partial<TerminalChannelOptions> = {}): TerminalChannel {
  channel = new TerminalChannel(AGENT, {
    ringBytes: 1_000,
    highWaterBytes: HIGH_WATER,
    snapshot: async () => {
      snapshotCalls++
      const next = snapshots.length > 1 ? snapshots.shift() : snapshots[0]
      if (next instanceof Error) throw next
      return next ?? null
    },
    ...options
  })
  return channel
}

/** Lets the snapshot request (promises only) run to its end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

beforeEach(() => {
  vi.useFakeTimers()
  snapshots = [{ generation: 1, offset: 0, cols: 100, rows: 30, data: 'SCREEN' }]
  snapshotCalls = 0
})

afterEach(() => {
  channel?.close()
  vi.useRealTimers()
})

describe('TerminalChannel: output and resume (TERM-1)', () => {
  it('[TERM-1] a viewer subscribed before any output starts with the first chunk; the host\'s own frame is forwarded as is, a trimmed one re-encoded', () => {
    open()
    const v = viewer()
    channel.subscribe(v, 0, 0)
    expect(v.seen()).toEqual([])
    const raw = encodeFrame({ kind: FrameKind.termOutput, channel: AGENT, generation: 1, offset: 0, data: text('abc') })
    channel.output(1, 0, text('abc'), raw)
    expect(v.raw[0]).toBe(raw)
    const overlapRaw = encodeFrame({ kind: FrameKind.termOutput, channel: AGENT, generation: 1, offset: 2, data: text('cde') })
    channel.output(1, 2, text('cde'), overlapRaw)
    expect(v.raw[1]).not.toBe(overlapRaw)
    channel.output(1, 5, text('f'))
    channel.output(1, 0, text('ab')) // a repeat: nothing new
    expect(v.seen()).toEqual(['out 1/0:abc', 'out 1/3:de', 'out 1/5:f'])
    expect(channel.gaps).toBe(0)
  })

  it('[TERM-1] a viewer resumes from its offset, or from the oldest byte with 0/0; a second subscribe replaces the first', () => {
    open()
    channel.output(1, 0, text('hello'))
    channel.output(1, 5, text(' world'))
    const fromStart = viewer()
    channel.subscribe(fromStart, 0, 0)
    const resuming = viewer()
    channel.subscribe(resuming, 1, 3)
    const atEnd = viewer()
    channel.subscribe(atEnd, 1, 11)
    expect(fromStart.seen()).toEqual(['out 1/0:hello', 'out 1/5: world'])
    expect(resuming.seen()).toEqual(['out 1/3:lo', 'out 1/5: world'])
    expect(atEnd.seen()).toEqual([])
    channel.output(1, 11, text('!'))
    for (const v of [fromStart, resuming, atEnd]) expect(v.seen().at(-1)).toBe('out 1/11:!')
    expect(channel.viewers.size).toBe(3)
    channel.subscribe(resuming, 1, 10)
    expect(resuming.seen().slice(3)).toEqual(['out 1/10:d', 'out 1/11:!'])
    expect(channel.viewers.size).toBe(3)
    channel.unsubscribe(resuming)
    channel.output(1, 12, text('?'))
    expect(resuming.seen().at(-1)).toBe('out 1/11:!')
    expect(fromStart.seen().at(-1)).toBe('out 1/12:?')
  })

  it('[TERM-1] a viewer waiting ahead of the first output is served from its offset within it; one ahead of everything is skipped ahead', async () => {
    open()
    const within = viewer()
    channel.subscribe(within, 1, 3)
    const beyond = viewer()
    channel.subscribe(beyond, 1, 50)
    channel.output(1, 0, text('0123456789'))
    expect(within.seen()).toEqual(['out 1/3:3456789'])
    expect(snapshotCalls).toBe(1)
    snapshots = [{ generation: 1, offset: 10, cols: 100, rows: 30, data: 'S10' }]
    await settle()
  })

  it('[TERM-1] a restarted agent (new generation from offset 0) is replayed to live viewers from its first byte', () => {
    open()
    const v = viewer()
    channel.subscribe(v, 0, 0)
    channel.output(1, 0, text('first run'))
    channel.output(2, 0, text('second'))
    channel.output(2, 6, text(' run'))
    expect(v.seen()).toEqual(['out 1/0:first run', 'out 2/0:second', 'out 2/6: run'])
    expect(snapshotCalls).toBe(0)
  })

  it('[TERM-1] only 0/0 means "from the oldest byte": a resume point in no generation (0/n) is not in the ring, so it gets a gap and the screen', async () => {
    open()
    channel.output(1, 0, text('hello'))
    snapshots = [{ generation: 1, offset: 5, cols: 80, rows: 24, data: 'S5' }]
    const v = viewer()
    channel.subscribe(v, 0, 3)
    await settle()
    expect(v.seen()).toEqual(['gap 1 0-5 80x24 "S5"'])
  })
})

describe('TerminalChannel: gaps and snapshots (TERM-2, TERM-4)', () => {
  it('[TERM-2] a viewer whose offset left the ring gets a gap from its offset to the snapshot, the snapshot, then the ring from there', async () => {
    open({ ringBytes: 10 })
    channel.output(1, 0, text('0123456789'))
    channel.output(1, 10, text('abcde')) // the first chunk falls off: ring holds [10, 15)
    snapshots = [{ generation: 1, offset: 12, cols: 120, rows: 40, data: 'SCREEN@12' }]
    const v = viewer()
    channel.subscribe(v, 1, 4)
    await settle()
    expect(v.seen()).toEqual(['gap 1 4-12 120x40 "SCREEN@12"', 'out 1/12:cde'])
    expect(channel.gaps).toBe(1)
    channel.output(1, 15, text('f'))
    expect(v.seen().at(-1)).toBe('out 1/15:f')
  })

  it('[TERM-2] a late joiner whose beginning is gone starts from the screen as it is now: gap from 0', async () => {
    open({ ringBytes: 10 })
    channel.output(1, 0, text('0123456789'))
    channel.output(1, 10, text('abcde'))
    snapshots = [{ generation: 1, offset: 15, cols: 90, rows: 20, data: 'NOW' }]
    const v = viewer()
    channel.subscribe(v, 0, 0)
    await settle()
    expect(v.seen()).toEqual(['gap 1 0-15 90x20 "NOW"'])
  })

  it('[TERM-2] a viewer from an older generation gets a gap from 0 of the current one', async () => {
    open()
    channel.output(2, 0, text('new run'))
    snapshots = [{ generation: 2, offset: 7, cols: 80, rows: 24, data: 'S' }]
    const v = viewer()
    channel.subscribe(v, 1, 500)
    await settle()
    expect(v.seen()).toEqual(['gap 2 0-7 80x24 "S"'])
  })

  it('[TERM-2] a live viewer is skipped ahead when the host skips bytes, or a new generation starts past 0, or it waits for a later generation', async () => {
    open()
    const v = viewer()
    channel.subscribe(v, 0, 0)
    channel.output(1, 0, text('abc'))
    snapshots = [{ generation: 1, offset: 10, cols: 80, rows: 24, data: 'S10' }]
    channel.output(1, 10, text('xyz')) // bytes 3..10 never arrived: the ring restarts at 10
    await settle()
    expect(v.seen()).toEqual(['out 1/0:abc', 'gap 1 3-10 80x24 "S10"', 'out 1/10:xyz'])
    snapshots = [{ generation: 2, offset: 5, cols: 80, rows: 24, data: 'G2' }]
    channel.output(2, 5, text('late')) // a new generation whose start the ring does not hold
    await settle()
    expect(v.seen().slice(3)).toEqual(['gap 2 0-5 80x24 "G2"', 'out 2/5:late'])
    // A viewer that asked for generation 4 before any output is skipped when generation 3 shows up.
    const future = viewer()
    open()
    channel.subscribe(future, 4, 0)
    snapshots = [{ generation: 3, offset: 2, cols: 80, rows: 24, data: 'G3' }]
    channel.output(3, 0, text('hi'))
    await settle()
    expect(future.seen()).toEqual(['gap 3 0-2 80x24 "G3"'])
  })

  it('[TERM-4] viewers skipped at the same time share one snapshot request; a later skip asks again', async () => {
    open({ ringBytes: 10 })
    channel.output(1, 0, text('0123456789'))
    channel.output(1, 10, text('abcdefghij'))
    snapshots = [{ generation: 1, offset: 20, cols: 80, rows: 24, data: 'S20' }]
    const [a, b] = [viewer(), viewer()]
    channel.subscribe(a, 1, 1)
    channel.subscribe(b, 1, 2)
    await settle()
    expect(snapshotCalls).toBe(1)
    expect(a.seen()).toEqual(['gap 1 1-20 80x24 "S20"'])
    expect(b.seen()).toEqual(['gap 1 2-20 80x24 "S20"'])
    expect(channel.gaps).toBe(2)
    const c = viewer()
    channel.subscribe(c, 1, 3)
    await settle()
    expect(snapshotCalls).toBe(2)
    expect(c.seen()).toEqual(['gap 1 3-20 80x24 "S20"'])
  })

  it('[TERM-4] a snapshot the ring cannot continue is asked for again, at most three times; then the gap goes to the ring start with host-offline', async () => {
    open({ ringBytes: 10 })
    channel.output(1, 0, text('0123456789'))
    channel.output(1, 10, text('abcde'))
    snapshots = [{ generation: 1, offset: 99, cols: 80, rows: 24, data: 'AHEAD' }]
    const v = viewer()
    channel.subscribe(v, 1, 2)
    await settle()
    expect(snapshotCalls).toBe(3)
    // The ring holds [10, 15) (the first chunk fell off): the gap ends at its start.
    expect(v.seen()).toEqual(['gap 1 2-10 80x24 ""', 'error host-offline', 'out 1/10:abcde'])
    const error = decodeFrame(v.raw[1] as Uint8Array)
    expect(error).toMatchObject({ kind: FrameKind.error, code: 'host-offline', message: expect.stringContaining('could not send the screen') })
  })

  it('[TERM-4] the second try is used when the first raced ahead; a snapshot of another generation is taken as it is', async () => {
    open({ ringBytes: 10 })
    channel.output(1, 0, text('0123456789'))
    channel.output(1, 10, text('abcde'))
    snapshots = [
      { generation: 1, offset: 99, cols: 80, rows: 24, data: 'AHEAD' },
      { generation: 1, offset: 15, cols: 80, rows: 24, data: 'OK' }
    ]
    const v = viewer()
    channel.subscribe(v, 1, 2)
    await settle()
    expect(snapshotCalls).toBe(2)
    expect(v.seen()).toEqual(['gap 1 2-15 80x24 "OK"'])
    snapshots = [{ generation: 2, offset: 3, cols: 80, rows: 24, data: 'NEXT' }]
    const w = viewer()
    channel.subscribe(w, 1, 1)
    await settle()
    // The ring does not hold generation 2: the gap carries it, ending at the ring's start.
    expect(w.seen()).toEqual(['gap 2 0-10 80x24 "NEXT"', 'out 1/10:abcde'])
  })

  it('[TERM-4] a host that cannot be reached (no snapshot, or a failing request) gives one try, a plain gap and host-offline', async () => {
    for (const answer of [null, new Error('host gone')]) {
      open({ ringBytes: 10 })
      snapshotCalls = 0
      channel.output(1, 0, text('0123456789'))
      channel.output(1, 10, text('abcde'))
      snapshots = [answer]
      const v = viewer()
      channel.subscribe(v, 1, 2)
      await settle()
      expect(snapshotCalls).toBe(1)
      expect(v.seen()).toEqual(['gap 1 2-10 80x24 ""', 'error host-offline', 'out 1/10:abcde'])
      channel.close()
    }
  })

  it('[TERM-4] a snapshot goes only to the viewers waiting for it: a live viewer alongside gets no gap', async () => {
    open({ ringBytes: 10 })
    const live = viewer()
    channel.subscribe(live, 0, 0)
    channel.output(1, 0, text('0123456789'))
    channel.output(1, 10, text('abcde'))
    snapshots = [{ generation: 1, offset: 15, cols: 80, rows: 24, data: 'S15' }]
    const late = viewer()
    channel.subscribe(late, 1, 2)
    await settle()
    expect(late.seen()).toEqual(['gap 1 2-15 80x24 "S15"'])
    expect(live.seen()).toEqual(['out 1/0:0123456789', 'out 1/10:abcde'])
    expect(channel.gaps).toBe(1)
  })
})

describe('TerminalChannel: slow viewers (TERM-3)', () => {
  it('[TERM-3] a viewer whose socket backs up past the high-water mark is sent nothing more; drained to a quarter, it catches up from the ring', async () => {
    open()
    const slow = viewer()
    const fast = viewer()
    channel.subscribe(slow, 0, 0)
    channel.subscribe(fast, 0, 0)
    slow.stalled = true
    const chunk = 'x'.repeat(40)
    channel.output(1, 0, text(chunk))
    channel.output(1, 40, text(chunk))
    channel.output(1, 80, text(chunk)) // the socket now holds more than 100 bytes
    channel.output(1, 120, text(chunk))
    expect(slow.seen()).toHaveLength(3)
    expect(fast.seen()).toHaveLength(4)
    // Drained to exactly a quarter of the high-water mark: not yet.
    slow.bufferedAmount = HIGH_WATER / 4 + 1
    vi.advanceTimersByTime(20)
    expect(slow.seen()).toHaveLength(3)
    slow.bufferedAmount = HIGH_WATER / 4
    slow.stalled = false
    vi.advanceTimersByTime(20)
    expect(slow.seen().at(-1)).toBe(`out 1/120:${chunk}`)
    expect(slow.seen()).toHaveLength(4)
    // Nobody lags: the poll stops.
    expect(vi.getTimerCount()).toBe(0)
    channel.output(1, 160, text('!'))
    expect(slow.seen().at(-1)).toBe('out 1/160:!')
    expect(channel.gaps).toBe(0)
  })

  it('[TERM-3] a socket at exactly the high-water mark is still sent to', () => {
    open()
    const v = viewer()
    channel.subscribe(v, 0, 0)
    v.bufferedAmount = HIGH_WATER
    channel.output(1, 0, text('a'))
    expect(v.seen()).toEqual(['out 1/0:a'])
    v.bufferedAmount = HIGH_WATER + 1
    channel.output(1, 1, text('b'))
    expect(v.seen()).toEqual(['out 1/0:a'])
  })

  it('[TERM-3] one poll serves every lagging viewer, and keeps going while one that resumed backs up again', () => {
    open()
    const [a, b] = [viewer(), viewer()]
    channel.subscribe(a, 0, 0)
    channel.subscribe(b, 0, 0)
    a.stalled = true
    b.stalled = true
    for (let i = 0; i < 9; i++) channel.output(1, i * 40, text('y'.repeat(40)))
    expect(vi.getTimerCount()).toBe(1)
    expect(a.seen()).toHaveLength(3)
    expect(b.seen()).toHaveLength(3)
    // a drains once but is still stalled: it takes three more chunks and backs up again; b reads on.
    a.drain()
    b.drain()
    b.stalled = false
    vi.advanceTimersByTime(20)
    expect(a.seen()).toHaveLength(6)
    expect(b.seen()).toHaveLength(9)
    expect(vi.getTimerCount()).toBe(1)
    a.drain()
    a.stalled = false
    vi.advanceTimersByTime(20)
    expect(a.seen()).toHaveLength(9)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('[TERM-3] a lagging viewer whose place left the ring is skipped ahead once it drains', async () => {
    open({ ringBytes: 100 })
    const v = viewer()
    channel.subscribe(v, 0, 0)
    v.stalled = true
    for (let i = 0; i < 5; i++) channel.output(1, i * 40, text('z'.repeat(40)))
    expect(v.seen()).toHaveLength(3) // at 120; the ring now holds [120, 200)... then [160, 200)
    channel.output(1, 200, text('w'.repeat(40)))
    snapshots = [{ generation: 1, offset: 240, cols: 80, rows: 24, data: 'S240' }]
    v.drain()
    v.stalled = false
    vi.advanceTimersByTime(20)
    await settle()
    expect(v.seen().slice(3)).toEqual(['gap 1 120-240 80x24 "S240"'])
  })

  it('[TERM-3] a viewer that acknowledges is held to the high-water mark of unacknowledged bytes, and an ACK resumes it at once', () => {
    open()
    const v = viewer()
    channel.ack(v, 0) // not subscribed: ignored
    channel.subscribe(v, 0, 0)
    channel.ack(v, 0)
    const chunk = 'a'.repeat(50)
    channel.output(1, 0, text(chunk))
    channel.output(1, 50, text(chunk)) // 100 in flight: at the mark, still sent
    channel.output(1, 100, text(chunk)) // 100 > 100? no: sent, now 150 in flight
    channel.output(1, 150, text(chunk)) // over: held back
    expect(v.seen()).toHaveLength(3)
    channel.ack(v, 100) // 50 in flight, but more than a quarter of the mark: still held
    expect(v.seen()).toHaveLength(3)
    channel.ack(v, 1_000_000) // more than it was sent counts as all it was sent
    expect(v.seen()).toHaveLength(4)
    expect(v.seen().at(-1)).toBe(`out 1/150:${chunk}`)
    // Acknowledged through 150: the next 100 bytes go out without waiting for an ACK, then it is held again.
    channel.output(1, 200, text(chunk))
    channel.output(1, 250, text(chunk))
    expect(v.seen()).toHaveLength(6)
    channel.output(1, 300, text(chunk))
    expect(v.seen()).toHaveLength(6)
  })

  it('[TERM-3] a viewer keeps acknowledging across a resubscribe and a new generation, counted from its new position', () => {
    open()
    const v = viewer()
    channel.subscribe(v, 0, 0)
    channel.ack(v, 0)
    channel.output(1, 0, text('b'.repeat(90)))
    channel.subscribe(v, 1, 90) // a reconnect at the end: nothing in flight
    channel.output(1, 90, text('c'.repeat(90)))
    expect(v.seen()).toHaveLength(2)
    channel.output(2, 0, text('d'.repeat(90))) // a new generation: in flight counts from 0
    expect(v.seen()).toHaveLength(3)
    channel.output(2, 90, text('e'.repeat(20)))
    expect(v.seen()).toHaveLength(4)
    channel.output(2, 110, text('f'))
    expect(v.seen()).toHaveLength(4)
  })

  it('[TERM-3] after a gap, what counts as in flight starts at the gap\'s end', async () => {
    open({ ringBytes: 10 })
    channel.output(1, 0, text('x'.repeat(140)))
    channel.output(1, 140, text('abcdefghij'))
    snapshots = [{ generation: 1, offset: 150, cols: 80, rows: 24, data: 'S' }]
    const v = viewer()
    channel.subscribe(v, 0, 0)
    channel.ack(v, 0)
    await settle()
    expect(v.seen()).toEqual(['gap 1 0-150 80x24 "S"'])
    // 150 bytes were skipped, not sent: a full window is still open.
    channel.output(1, 150, text('g'.repeat(10)))
    channel.output(1, 160, text('h'.repeat(90)))
    expect(v.seen()).toHaveLength(3)
    channel.output(1, 250, text('i')) // 100 in flight: at the mark, still sent
    expect(v.seen()).toHaveLength(4)
    channel.output(1, 251, text('j'))
    expect(v.seen()).toHaveLength(4)
  })

  it('[TERM-3] a lagging viewer gets nothing from new output, even once its socket is below the mark, until the poll finds it drained to a quarter', () => {
    open()
    const v = viewer()
    channel.subscribe(v, 0, 0)
    v.stalled = true
    for (let i = 0; i < 4; i++) channel.output(1, i * 40, text(String(i).repeat(40)))
    expect(v.seen()).toHaveLength(3) // lagging at 120
    v.stalled = false
    v.bufferedAmount = HIGH_WATER / 2
    channel.output(1, 160, text('4'.repeat(40)))
    expect(v.seen()).toHaveLength(3)
    vi.advanceTimersByTime(20) // still more than a quarter queued
    expect(v.seen()).toHaveLength(3)
    v.bufferedAmount = HIGH_WATER / 4
    vi.advanceTimersByTime(20)
    expect(v.seen().slice(3)).toEqual([`out 1/120:${'3'.repeat(40)}`, `out 1/160:${'4'.repeat(40)}`])
  })

  it('[TERM-3] the poll keeps going while any viewer lags: one still backed up and one that resumed and backed up again are both counted', () => {
    open()
    const [a, b] = [viewer(), viewer()]
    channel.subscribe(a, 0, 0)
    channel.subscribe(b, 0, 0)
    a.stalled = true
    b.stalled = true
    for (let i = 0; i < 9; i++) channel.output(1, i * 40, text('y'.repeat(40)))
    expect([a.seen().length, b.seen().length]).toEqual([3, 3])
    // a stays backed up; b drains once, takes three more chunks and backs up again.
    b.drain()
    vi.advanceTimersByTime(20)
    expect([a.seen().length, b.seen().length]).toEqual([3, 6])
    expect(vi.getTimerCount()).toBe(1)
    for (const v of [a, b]) {
      v.drain()
      v.stalled = false
    }
    vi.advanceTimersByTime(20)
    expect([a.seen().length, b.seen().length]).toEqual([9, 9])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('[TERM-3] the poll stops once no viewer lags, even while a live viewer\'s socket holds more than a quarter of the mark', () => {
    open()
    const [slow, busy] = [viewer(), viewer()]
    channel.subscribe(slow, 0, 0)
    channel.subscribe(busy, 0, 0)
    slow.stalled = true
    for (let i = 0; i < 4; i++) channel.output(1, i * 40, text('p'.repeat(40)))
    busy.bufferedAmount = HIGH_WATER / 2 // queued, but under the mark: live
    expect(vi.getTimerCount()).toBe(1)
    slow.drain()
    slow.stalled = false
    vi.advanceTimersByTime(20)
    expect(slow.seen()).toHaveLength(4)
    expect(vi.getTimerCount()).toBe(0)
    channel.output(1, 160, text('q'))
    expect(busy.seen()).toHaveLength(5)
  })

  it('[TERM-3] only a held-back viewer is resumed by an ACK: one waiting for the first output keeps waiting, with no snapshot asked for', async () => {
    open()
    const v = viewer()
    channel.subscribe(v, 1, 3)
    channel.ack(v, 0)
    await settle()
    expect(snapshotCalls).toBe(0)
    expect(v.seen()).toEqual([])
    channel.output(1, 0, text('0123456789'))
    expect(v.seen()).toEqual(['out 1/3:3456789'])
  })

  it('[TERM-3] a resubscribe settles what was sent before it: in flight counts from the new resume point', () => {
    open()
    const v = viewer()
    channel.subscribe(v, 0, 0)
    channel.ack(v, 0)
    channel.output(1, 0, text('b'.repeat(90)))
    channel.subscribe(v, 1, 90) // 90 were in flight; the reconnect says it has them
    channel.output(1, 90, text('c'.repeat(90)))
    channel.output(1, 180, text('!')) // 90 in flight since the resubscribe: sent
    expect(v.seen()).toEqual(['out 1/0:' + 'b'.repeat(90), 'out 1/90:' + 'c'.repeat(90), 'out 1/180:!'])
    channel.output(1, 181, text('e'.repeat(10))) // 91 in flight: sent, now 101
    channel.output(1, 191, text('f')) // over the mark: held
    expect(v.seen()).toHaveLength(4)
  })

  it('[TERM-3] a viewer that never acknowledges is held only by its socket, also after a gap', async () => {
    open({ ringBytes: 10 })
    channel.output(1, 0, text('x'.repeat(140)))
    channel.output(1, 140, text('abcdefghij'))
    snapshots = [{ generation: 1, offset: 150, cols: 80, rows: 24, data: 'S' }]
    const v = viewer()
    channel.subscribe(v, 0, 0)
    await settle()
    expect(v.seen()).toEqual(['gap 1 0-150 80x24 "S"'])
    for (let i = 0; i < 4; i++) channel.output(1, 150 + i * 50, text('k'.repeat(50)))
    expect(v.seen()).toHaveLength(5)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('TerminalChannel: lifetime (TERM-9)', () => {
  it('[TERM-9] closing frees the ring from the relay-wide budget, forgets viewers and stops the drain poll', () => {
    const budget = new RingBudget(10_000)
    open({ budget })
    const v = viewer()
    channel.subscribe(v, 0, 0)
    v.stalled = true
    for (let i = 0; i < 4; i++) channel.output(1, i * 40, text('q'.repeat(40)))
    expect(budget.bytes).toBe(160)
    expect(vi.getTimerCount()).toBe(1)
    channel.close()
    expect(budget.bytes).toBe(0)
    expect(channel.viewers.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})
