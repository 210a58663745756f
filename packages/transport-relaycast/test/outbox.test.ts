/**
 * The outbox against a scripted RelayCast: one post in flight, the token bucket, merging
 * while waiting, rate_limited backoff with its status, and the 413 re-split.
 */
import { FrameKind, encodeFrame, syncFrame } from '@orchard/protocol'
import * as encoding from 'lib0/encoding'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { EntryKind, TokenBucket, decodeEntries, decodeEnvelope, type Envelope, type OutboxStatus } from '../src/index.js'
import { Outbox } from '../src/Outbox.js'

class ScriptedEngine {
  readonly posted: Array<{ to: string; text: string; key: string }> = []
  inFlight = 0
  maxInFlight = 0
  /** Errors to throw for the next calls, in order. */
  failures: Array<Error & { code?: string; statusCode?: number; retryable?: boolean }> = []
  maxText = 0
  latencyMs = 100

  async call(to: string, text: string, key: string): Promise<void> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      await new Promise((resolve) => setTimeout(resolve, this.latencyMs))
      const failure = this.failures.shift()
      if (failure) throw failure
      if (this.maxText > 0 && text.length > this.maxText) throw Object.assign(new Error('too large'), { code: 'transport_error', statusCode: 413, retryable: false })
      this.posted.push({ to, text, key })
    } finally {
      this.inFlight--
    }
  }
}

function rateLimited(): Error {
  return Object.assign(new Error('Workspace message rate exceeded'), { code: 'rate_limited', statusCode: 429, retryable: true })
}

let engine: ScriptedEngine
let statuses: OutboxStatus[]
let outbox: Outbox

function makeOutbox(perMinute = 60, burst = 2, maxTextLength = 64_000): Outbox {
  return new Outbox({
    sender: 'orc-ana',
    epoch: 1,
    channel: 'orc-ws',
    target: { post: (_c, text, key) => engine.call('#', text, key), dm: (to, text, key) => engine.call(to, text, key) },
    bucket: new TokenBucket(perMinute, burst),
    maxTextLength,
    backoff: { initialMs: 1_000, maxMs: 30_000 },
    onStatus: (status) => statuses.push(status),
    onError: (error) => {
      throw error
    }
  })
}

function update(doc: Y.Doc, key: string): Uint8Array {
  let out: Uint8Array | null = null
  doc.once('update', (u: Uint8Array) => (out = u))
  doc.getMap('m').set(key, key)
  const body = encoding.encode((encoder) => {
    encoding.writeVarUint(encoder, 2)
    encoding.writeVarUint8Array(encoder, out as unknown as Uint8Array)
  })
  return encodeFrame(syncFrame('workspace', body))
}

beforeEach(() => {
  vi.useFakeTimers()
  engine = new ScriptedEngine()
  statuses = []
})
afterEach(() => {
  outbox?.close()
  vi.useRealTimers()
})

describe('outbox', () => {
  it('[RC-6] [RC-7] one post in flight; edits made meanwhile go out merged in the next post, paced by the bucket', async () => {
    outbox = makeOutbox(60, 2)
    const doc = new Y.Doc()
    for (let i = 0; i < 30; i++) {
      outbox.enqueue({ entry: { kind: EntryKind.frame, targets: [], conn: 'c', payload: update(doc, `k${i}`) }, weight: 1 }, 'orc-host')
      await vi.advanceTimersByTimeAsync(20)
    }
    await vi.advanceTimersByTimeAsync(5_000)
    expect(engine.maxInFlight).toBe(1)
    // 30 edits over 600 ms: the first post carries one, the rest wait behind it and merge.
    expect(engine.posted.length).toBeLessThanOrEqual(3)
    const frames = engine.posted.flatMap((post) => decodeEntries((decodeEnvelope(post.text) as Envelope).body))
    expect(frames.length).toBe(engine.posted.length)
    expect(outbox.stats.merged).toBe(30 - engine.posted.length)
    // Paced: a burst of 2, then one a second (60 a minute).
    for (let i = 0; i < 10; i++) outbox.enqueue({ entry: { kind: EntryKind.keepalive, targets: [], conn: String(i), payload: new Uint8Array() }, weight: 1 }, `orc-${i}`)
    const before = engine.posted.length
    await vi.advanceTimersByTimeAsync(3_000)
    expect(engine.posted.length - before).toBeLessThanOrEqual(4)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(engine.posted.length - before).toBe(10)
  })

  it('[RC-8] rate_limited backs off, reports rate-limited, then delivers everything with the same idempotency key', async () => {
    outbox = makeOutbox(600, 5)
    engine.failures = [rateLimited(), rateLimited()]
    outbox.enqueue({ entry: { kind: EntryKind.keepalive, targets: [], conn: 'x', payload: new Uint8Array() }, weight: 1 })
    await vi.advanceTimersByTimeAsync(150)
    expect(statuses.at(-1)).toMatchObject({ state: 'rate-limited', retryInMs: 1_000 })
    await vi.advanceTimersByTimeAsync(1_200)
    expect(statuses.at(-1)).toMatchObject({ state: 'rate-limited', retryInMs: 2_000 })
    expect(engine.posted).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(engine.posted).toHaveLength(1)
    expect(statuses.at(-1)).toEqual({ state: 'ok' })
    expect(outbox.stats.rateLimited).toBe(2)
    expect(engine.posted[0]?.key).toBe('orc-ana.1.#.1')
  })

  it('[RC-3] a 413 halves the text cap and sends the batch again as fragments with new sequence numbers', async () => {
    outbox = makeOutbox(6_000, 50)
    engine.maxText = 3_000
    const big = new Uint8Array(6_000).fill(7)
    outbox.enqueue({ entry: { kind: EntryKind.frame, targets: [], conn: 'c', payload: encodeFrame({ kind: FrameKind.termOutput, channel: 'a', generation: 1, offset: 0, data: big }) }, weight: 1 })
    await vi.advanceTimersByTimeAsync(10_000)
    const envelopes = engine.posted.map((post) => decodeEnvelope(post.text) as Envelope)
    expect(envelopes.length).toBeGreaterThanOrEqual(3)
    expect(envelopes.every((envelope) => envelope.fragment && envelope.seq > 1)).toBe(true)
    expect(engine.posted.every((post) => post.text.length <= 3_000)).toBe(true)
  })
})
