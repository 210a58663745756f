import { afterEach, describe, expect, it, vi } from 'vitest'
import { EntryKind, encodeEntries, type Envelope } from './envelope.js'
import { InboundStreams } from './InboundStreams.js'

const envelope = (seq: number): Envelope => ({
  version: 1,
  sender: 'orc-ben',
  epoch: 5,
  stream: 'channel',
  seq,
  body: encodeEntries([{ kind: EntryKind.keepalive, targets: [], conn: String(seq), payload: new Uint8Array() }])
})

describe('InboundStreams: gaps', () => {
  afterEach(() => vi.useRealTimers())

  it('[RC-5] a second gap behind the first gets its own wait: each is skipped after gapTimeoutMs, not held for ever', () => {
    vi.useFakeTimers()
    const out: string[] = []
    const dropped: string[] = []
    const inbound = new InboundStreams({ gapTimeoutMs: 1_000, deliver: (_s, _e, entries) => out.push(entries[0]?.conn ?? ''), dropped: (reason, _s, detail) => dropped.push(`${reason} ${detail}`) })
    for (const seq of [1, 3, 5]) inbound.accept('orc-ben', envelope(seq))
    expect(out).toEqual(['1'])
    vi.advanceTimersByTime(1_000)
    expect(out).toEqual(['1', '3'])
    vi.advanceTimersByTime(999)
    expect(out).toEqual(['1', '3'])
    vi.advanceTimersByTime(1)
    expect(out).toEqual(['1', '3', '5'])
    expect(dropped).toEqual(['gap-skipped seq 2..2', 'gap-skipped seq 4..4'])
    expect(vi.getTimerCount()).toBe(0)
    inbound.clear()
  })
})
