/**
 * Everything this instance posts goes through one outbox (RC-6, RC-7, RC-8): one post in
 * flight at a time, a token bucket for this instance's share of the workspace's posts, a
 * queue per destination (the channel, or one agent's DMs) merged before each post, and a
 * backoff when RelayCast answers rate_limited, reported as the link's status.
 */
import { encodeEntries, packEnvelopes, type Stream } from './envelope.js'
import { mergePending, type MergeStats, type Pending } from './merge.js'
import type { TokenBucket } from './TokenBucket.js'

/** What the outbox needs from RelayCast: two calls, each with our idempotency key. */
export interface PostTarget {
  post(channel: string, text: string, idempotencyKey: string): Promise<unknown>
  dm(agent: string, text: string, idempotencyKey: string): Promise<unknown>
}

export type OutboxStatus = { state: 'ok' } | { state: 'rate-limited'; retryInMs: number; since: number } | { state: 'retrying'; error: string; retryInMs: number }

export interface OutboxOptions {
  sender: string
  epoch: number
  channel: string
  target: PostTarget
  bucket: TokenBucket
  maxTextLength: number
  /** How long a first entry waits for company before a post (Nagle-like; default 30 ms). */
  lingerMs?: number
  backoff?: { initialMs?: number; maxMs?: number }
  onStatus(status: OutboxStatus): void
  onError(error: Error): void
}

export interface OutboxStats extends MergeStats {
  posts: number
  /** Entries handed in (before merging). */
  entries: number
  rateLimited: number
}

interface Queue {
  items: Pending[]
  /** Order of the oldest item, so destinations take turns by age. */
  firstOrder: number
  seq: number
}

const CHANNEL_DEST = '#'

export class Outbox {
  readonly stats: OutboxStats = { posts: 0, entries: 0, merged: 0, rateLimited: 0 }
  private readonly queues = new Map<string, Queue>()
  private inFlight = false
  private timer: NodeJS.Timeout | null = null
  private order = 0
  private closed = false
  private failures = 0
  private maxText: number
  private idleWaiters: Array<() => void> = []

  constructor(private options: OutboxOptions) {
    this.maxText = options.maxTextLength
  }

  /** Queues an entry for the channel (`to` omitted) or for one agent's DMs. */
  enqueue(item: Pending, to?: string): void {
    if (this.closed) return
    const dest = to ?? CHANNEL_DEST
    let queue = this.queues.get(dest)
    if (!queue) {
      queue = { items: [], firstOrder: 0, seq: 0 }
      this.queues.set(dest, queue)
    }
    if (queue.items.length === 0) queue.firstOrder = this.order++
    queue.items.push(item)
    this.stats.entries++
    // A short wait lets the frames of one exchange (an update, its ack, a presence move) share a post.
    this.schedule(this.options.lingerMs ?? 30)
  }

  /** A new budget (plan or share changed): takes effect for the next post. */
  setBucket(bucket: TokenBucket): void {
    this.options.bucket = bucket
  }

  /** The sequence number the next post to `to` (the channel if omitted) will carry. */
  nextSeq(to?: string): number {
    return (this.queues.get(to ?? CHANNEL_DEST)?.seq ?? 0) + 1
  }

  get idle(): boolean {
    return !this.inFlight && [...this.queues.values()].every((queue) => queue.items.length === 0)
  }

  /** Resolves once everything queued has been posted (or dropped on a fatal error). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.queues.clear()
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  private schedule(ms: number): void {
    if (this.timer || this.inFlight || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.pump()
    }, ms)
  }

  private async pump(): Promise<void> {
    if (this.inFlight || this.closed) return
    let next: [string, Queue] | null = null
    for (const entry of this.queues) if (entry[1].items.length > 0 && (!next || entry[1].firstOrder < next[1].firstOrder)) next = entry
    if (!next) {
      for (const resolve of this.idleWaiters.splice(0)) resolve()
      return
    }
    const wait = this.options.bucket.waitMs()
    if (wait > 0) return this.schedule(wait)
    const [dest, queue] = next
    this.inFlight = true
    const items = mergePending(queue.items.splice(0), this.stats)
    try {
      for (const item of items) item.onCommit?.(item.weight)
      await this.postBatch(dest, queue, encodeEntries(items.map((item) => item.entry)))
    } finally {
      this.inFlight = false
      if (this.idle) for (const resolve of this.idleWaiters.splice(0)) resolve()
      this.schedule(0)
    }
  }

  private async postBatch(dest: string, queue: Queue, body: Uint8Array): Promise<void> {
    const stream: Stream = dest === CHANNEL_DEST ? 'channel' : 'dm'
    for (let attempt = 0; !this.closed; attempt++) {
      const seqs: number[] = []
      const texts = packEnvelopes({ sender: this.options.sender, epoch: this.options.epoch, stream }, body, this.maxText, () => {
        seqs.push(++queue.seq)
        return queue.seq
      })
      let index = 0
      try {
        for (; index < texts.length; index++) await this.postOne(dest, texts[index] as string, seqs[index] as number)
        return
      } catch (error) {
        // RC-3: a text cap we did not know about: smaller pieces, new sequence numbers.
        if (isTooLarge(error) && this.maxText > 512) {
          this.maxText = Math.max(512, Math.floor((texts[index] as string).length / 2))
          continue
        }
        this.options.onError(error instanceof Error ? error : new Error(String(error)))
        return
      }
    }
  }

  /** Posts one text, waiting for tokens and backing off on rate_limited and transient errors. */
  private async postOne(dest: string, text: string, seq: number): Promise<void> {
    // The same key on every retry of this text, so the engine stores it once.
    const key = `${this.options.sender}.${this.options.epoch}.${dest}.${seq}`
    for (;;) {
      if (this.closed) return
      const wait = this.options.bucket.waitMs()
      if (wait > 0) {
        await delay(wait)
        continue
      }
      this.options.bucket.take()
      try {
        if (dest === CHANNEL_DEST) await this.options.target.post(this.options.channel, text, key)
        else await this.options.target.dm(dest, text, key)
        this.stats.posts++
        if (this.failures > 0) this.options.onStatus({ state: 'ok' })
        this.failures = 0
        return
      } catch (error) {
        const code = errorCode(error)
        if (code !== 'rate_limited' && !isRetryable(error)) throw error
        const initial = this.options.backoff?.initialMs ?? 1_000
        const max = this.options.backoff?.maxMs ?? 30_000
        const retryInMs = Math.min(max, initial * 2 ** this.failures++)
        if (code === 'rate_limited') {
          // RC-8: the workspace's window is spent (agents share it): stop, say so, try later.
          this.stats.rateLimited++
          this.options.bucket.drain()
          this.options.onStatus({ state: 'rate-limited', retryInMs, since: Date.now() })
        } else this.options.onStatus({ state: 'retrying', error: error instanceof Error ? error.message : String(error), retryInMs })
        await delay(retryInMs)
      }
    }
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined
}

function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true
}

function isTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === 413
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.())
}
