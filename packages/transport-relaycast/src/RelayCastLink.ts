/**
 * This instance's seat on RelayCast: one `system` agent in a dedicated RelayCast workspace
 * (or a channel no agent is in: agents read channel traffic), the channel every Orchard
 * instance of the workspace joins, the realtime socket, and the outbox all posts go
 * through. Transports and the host share one link; it outlives their connections.
 */
import { RelayCast, type AgentClient } from '@relaycast/sdk'
import { ObservableV2 } from 'lib0/observable'
import { decodeEnvelope, EnvelopeError, type Entry, type Envelope } from './envelope.js'
import { InboundStreams } from './InboundStreams.js'
import type { Pending } from './merge.js'
import { Outbox, type OutboxStats, type OutboxStatus } from './Outbox.js'
import { TokenBucket } from './TokenBucket.js'

/** Posts a minute per RelayCast workspace (posts and DMs together), as the engine's plans grant them. */
export const PLAN_POSTS_PER_MINUTE = { free: 150, pro: 3_000, 'self-hosted': 15_000 } as const
export type RelayCastPlan = keyof typeof PLAN_POSTS_PER_MINUTE

export interface RelayCastLinkOptions {
  /** The RelayCast engine (always pass it: the SDK's default is the hosted service). */
  baseUrl: string
  /** The RelayCast workspace key (rk_live_…); a workspace used only by Orchard is best. */
  apiKey: string
  /** This instance's agent name, unique per instance (e.g. orc-<workspace8>-<instance8>). */
  agentName: string
  /** The channel all instances of this Orchard workspace join (e.g. orc-<workspace8>). */
  channel: string
  plan?: RelayCastPlan
  /** This instance's share of the workspace's posts (default 0.2: room for agents and other instances). */
  share?: number
  /** Posts at once before the bucket paces them (default 5). */
  burst?: number
  /** Longest message text to post (default 64 000 characters); longer batches are split (RC-3). */
  maxTextLength?: number
  /** How long a first queued frame waits for others before a post (default 30 ms). */
  lingerMs?: number
  /** How long a missing post holds back the ones after it from one sender (default 1 500 ms). */
  gapTimeoutMs?: number
  backoff?: { initialMs?: number; maxMs?: number }
  /** Realtime socket reconnect pacing (the SDK's defaults are 1–30 s). */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number }
  /** HTTP retries of 5xx and network errors inside the SDK (default 3, first after 1 000 ms). */
  http?: { retries?: number; backoffMs?: number }
}

export type LinkStatus = {
  /** The realtime socket. */
  connection: 'connecting' | 'online' | 'offline' | 'failed'
  /** Posting: 'rate-limited' means RelayCast refused posts for now and the link waits (RC-8). */
  posting: OutboxStatus
}

export interface LinkStats extends OutboxStats {
  received: number
  dropped: Record<'echo' | 'duplicate' | 'replay' | 'gap-skipped' | 'malformed' | 'forged', number>
}

export type RelayCastLinkEvents = {
  /** Entries that arrived from `sender` (RelayCast's stamped agent name), in that sender's order. */
  entries: (sender: string, entries: Entry[], envelope: Envelope) => void
  status: (status: LinkStatus) => void
  error: (error: Error) => void
}

export class RelayCastLink extends ObservableV2<RelayCastLinkEvents> {
  /** One per process start: a restarted instance is never mistaken for a replay (RC-5). */
  readonly epoch: number
  status: LinkStatus = { connection: 'connecting', posting: { state: 'ok' } }
  readonly stats: LinkStats
  private agent: AgentClient | null = null
  private outbox: Outbox | null = null
  private readonly inbound: InboundStreams
  private started: Promise<void> | null = null
  private readonly stops: Array<() => void> = []

  constructor(private readonly options: RelayCastLinkOptions) {
    super()
    this.epoch = Date.now()
    const dropped = { echo: 0, duplicate: 0, replay: 0, 'gap-skipped': 0, malformed: 0, forged: 0 }
    this.stats = { posts: 0, entries: 0, merged: 0, rateLimited: 0, received: 0, dropped }
    this.inbound = new InboundStreams({
      gapTimeoutMs: options.gapTimeoutMs ?? 1_500,
      deliver: (sender, envelope, entries) => this.emit('entries', [sender, entries, envelope]),
      dropped: (reason) => {
        this.stats.dropped[reason]++
      }
    })
  }

  get name(): string {
    return this.options.agentName
  }

  /** Registers the agent (or rotates its token), joins the channel and opens the realtime socket. */
  start(): Promise<void> {
    this.started ??= this.open().catch((error: unknown) => {
      this.started = null
      this.setStatus({ connection: 'failed' })
      throw error
    })
    return this.started
  }

  /** Queues an entry for the channel (to omitted) or for one agent's DMs. */
  send(entry: Entry, to?: string, extra: Omit<Pending, 'entry' | 'weight'> = {}): void {
    if (!this.outbox) throw new Error('The RelayCast link is not started; await link.start() first.')
    this.outbox.enqueue({ entry, weight: 1, ...extra }, to)
  }

  /** Changes this instance's budget (e.g. after upgrading the plan or adding instances); it starts full. */
  setBudget(budget: { plan?: RelayCastPlan; share?: number; burst?: number }): void {
    Object.assign(this.options, budget)
    this.outbox?.setBucket(this.bucket())
  }

  /** The sequence number this link's next channel post will carry (the host tells joiners, RC-5). */
  nextChannelSeq(): number {
    return this.outbox?.nextSeq() ?? 1
  }

  /** Start `sender`'s channel stream at `seq` of `epoch` (what it said in a DM), instead of waiting out the gap timer. */
  startChannelAt(sender: string, epoch: number, seq: number): void {
    this.inbound.startAt(sender, 'channel', epoch, seq)
  }

  /** Resolves once everything queued has been posted. */
  flushed(): Promise<void> {
    return this.outbox?.whenIdle() ?? Promise.resolve()
  }

  async close(): Promise<void> {
    this.outbox?.close()
    this.inbound.clear()
    for (const stop of this.stops.splice(0)) stop()
    const agent = this.agent
    this.agent = null
    this.started = null
    if (agent) await agent.disconnect()
    this.setStatus({ connection: 'offline' })
  }

  private async open(): Promise<void> {
    const { options } = this
    // rate_limited (429) is not retried inside the SDK: the outbox backs off and says so (RC-8).
    const retryPolicy = { maxRetries: options.http?.retries ?? 3, backoffMs: options.http?.backoffMs ?? 1_000, retryOn: [500, 502, 503, 504] }
    const relay = new RelayCast({ apiKey: options.apiKey, baseUrl: options.baseUrl, retryPolicy })
    const identity = await relay.registerOrRotate({ name: options.agentName, type: 'system' })
    const agent = relay.as(identity.token, {
      ws: {
        ...(options.reconnect?.baseDelayMs !== undefined ? { reconnectBaseDelayMs: options.reconnect.baseDelayMs } : {}),
        ...(options.reconnect?.maxDelayMs !== undefined ? { reconnectMaxDelayMs: options.reconnect.maxDelayMs } : {})
      }
    })
    try {
      await agent.channels.create({ name: options.channel, topic: 'Orchard sync frames: not for agents' })
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 409) throw error
      await agent.channels.join(options.channel)
    }
    this.outbox = new Outbox({
      sender: options.agentName,
      epoch: this.epoch,
      channel: options.channel,
      bucket: this.bucket(),
      maxTextLength: options.maxTextLength ?? 64_000,
      ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      target: {
        post: (channel, text, idempotencyKey) => agent.send(channel, text, { idempotencyKey }),
        dm: (to, text, idempotencyKey) => agent.dm(to, text, { idempotencyKey })
      },
      onStatus: (posting) => this.setStatus({ posting }),
      onError: (error) => this.emit('error', [error])
    })
    // The outbox counts its own; the link reports them with what it received.
    Object.defineProperties(this.stats, {
      posts: { get: () => this.outbox?.stats.posts ?? 0, enumerable: true },
      entries: { get: () => this.outbox?.stats.entries ?? 0, enumerable: true },
      merged: { get: () => this.outbox?.stats.merged ?? 0, enumerable: true },
      rateLimited: { get: () => this.outbox?.stats.rateLimited ?? 0, enumerable: true }
    })
    agent.connect()
    this.agent = agent
    const opened = new Promise<void>((resolve) => {
      this.stops.push(agent.on.connected(() => {
        this.setStatus({ connection: 'online' })
        resolve()
      }))
    })
    this.stops.push(agent.on.disconnected(() => this.setStatus({ connection: 'offline' })))
    this.stops.push(agent.on.permanentlyDisconnected(() => this.setStatus({ connection: 'failed' })))
    this.stops.push(agent.on.messageCreated((event) => {
      if (event.channel === options.channel) this.receive(event.message.agentName, event.message.text)
    }))
    this.stops.push(agent.on.dmReceived((event) => this.receive(event.message.agentName, event.message.text)))
    await opened
  }

  private bucket(): TokenBucket {
    return new TokenBucket(PLAN_POSTS_PER_MINUTE[this.options.plan ?? 'free'] * (this.options.share ?? 0.2), this.options.burst ?? 5)
  }

  private receive(stampedSender: string, text: string): void {
    let envelope: Envelope | null
    try {
      envelope = decodeEnvelope(text)
    } catch (error) {
      this.stats.dropped.malformed++
      if (error instanceof EnvelopeError) this.emit('error', [new Error(`A post from ${stampedSender} was not a valid Orchard envelope: ${error.message}`)])
      return
    }
    if (!envelope) return
    this.stats.received++
    // RC-4: our own posts come back on some engine paths.
    if (stampedSender === this.options.agentName) {
      this.stats.dropped.echo++
      return
    }
    // RC-2: the server stamps who posted; an envelope naming someone else is forged.
    if (envelope.sender !== stampedSender) {
      this.stats.dropped.forged++
      return
    }
    this.inbound.accept(stampedSender, envelope)
  }

  private setStatus(change: Partial<LinkStatus>): void {
    this.status = { ...this.status, ...change }
    this.emit('status', [this.status])
  }
}
