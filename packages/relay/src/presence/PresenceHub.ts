/**
 * Awareness for one workspace (PRESENCE-n). The relay keeps every instance's state,
 * stamps each with the identity it authenticated, refuses states that claim someone
 * else, drops the echoes stock y-websocket clients send back, removes a connection's
 * states the moment its socket closes, and coalesces broadcasts so a burst of cursor
 * moves costs one frame per interval, encoded once per wire flavor.
 */
import { awarenessFrame, encodeFrame, encodeYwsMessage } from '@orchard/protocol'
import type { WireFlavor } from '../docs/SharedDoc.js'
import { jsonDepthOver } from '../docs/validate-update.js'
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from './awareness-codec.js'

/** The identity the relay stamps on every state, under the `orchard` key. */
export interface PresenceIdentity {
  memberId: string
  name: string
  role: string
  instanceId: string
  /** The machine label the instance gave (e.g. its host name). */
  label: string
}

export interface PresencePeer {
  readonly flavor: WireFlavor
  readonly identity: PresenceIdentity
  sendRaw(bytes: Uint8Array): void
}

interface Held {
  clock: number
  state: Record<string, unknown> | null
  owner: PresencePeer
  /** When the state became null; the clock is remembered a while so late echoes cannot revive it. */
  removedAt?: number
}

const TOMBSTONE_MS = 30_000

export type PresenceResult = { ok: true } | { ok: false; code: 'bad-frame' | 'too-large' | 'forbidden'; message: string }

/** PRESENCE-6: what one connection's presence may cost the relay and every watcher. */
export interface PresenceLimits {
  /** Minimum time between broadcasts (ms); changes in between are coalesced. */
  intervalMs: number
  maxStateBytes: number
  maxDepth: number
  maxStatesPerConnection: number
}

export class PresenceHub {
  private readonly states = new Map<number, Held>()
  private readonly changed = new Set<number>()
  private timer: NodeJS.Timeout | null = null
  private lastFlush = 0

  constructor(
    private readonly peers: () => Iterable<PresencePeer>,
    private readonly channel: string,
    private readonly limits: PresenceLimits,
    /** A peer whose state could not be sent after all (ERRORS-1): it alone pays. */
    private readonly onFault: (peer: PresencePeer, error: unknown) => void = () => {}
  ) {}

  get size(): number {
    let count = 0
    for (const held of this.states.values()) if (held.state !== null) count++
    return count
  }

  /** Current states with their stamped identity (for session.presence). */
  list(): Array<{ clientID: number; state: Record<string, unknown> }> {
    const out: Array<{ clientID: number; state: Record<string, unknown> }> = []
    for (const [clientID, held] of this.states) if (held.state) out.push({ clientID, state: held.state })
    return out
  }

  /**
   * Checks the whole update first (shape, caps, ownership), then applies it: a refused
   * update changes nothing, and nothing refused is ever stored or broadcast.
   */
  apply(peer: PresencePeer, update: Uint8Array): PresenceResult {
    const { maxStateBytes, maxDepth, maxStatesPerConnection } = this.limits
    // No size check on the frame as a whole: a stock client echoes everyone's states back in
    // one update, so only the states it owns count (the frame is bounded by maxFrameBytes).
    const entries = decodeAwarenessUpdate(update)
    if (!entries) return { ok: false, code: 'bad-frame', message: 'That awareness update is malformed (it must be y-protocols encodeAwarenessUpdate output with JSON object states); it was not applied.' }
    const owned = new Set<number>()
    for (const [clientID, held] of this.states) if (held.owner === peer) owned.add(clientID)
    const accepted: AwarenessEntry[] = []
    for (const entry of entries) {
      const held = this.states.get(entry.clientID)
      if (held && held.owner !== peer && !sameInstance(held.owner.identity, peer.identity)) {
        // PRESENCE-3: a stock client echoing what it received is quiet; a newer clock for
        // someone else's client id is an attempt to speak for them.
        if (entry.clock <= held.clock) continue
        return { ok: false, code: 'forbidden', message: `Presence for client ${entry.clientID} belongs to another instance; yours was not applied.` }
      }
      const claimed = entry.state?.orchard
      if (claimed !== undefined && !matchesIdentity(claimed, peer.identity)) {
        // PRESENCE-2: the relay knows who you are; a state naming someone else is refused.
        return { ok: false, code: 'forbidden', message: 'Your presence claimed another identity; the relay refused it.' }
      }
      // After the echo check: an echo of a stored state (stamped, so a little larger) is not the sender's.
      if (entry.state !== null) {
        if (jsonDepthOver(entry.state, maxDepth)) {
          return { ok: false, code: 'bad-frame', message: `A presence state may nest at most ${maxDepth} levels deep; this update was not applied.` }
        }
        // Safe now that its depth is bounded.
        const bytes = JSON.stringify(entry.state).length
        if (bytes > maxStateBytes) {
          return { ok: false, code: 'too-large', message: `A presence state may be at most ${maxStateBytes} bytes as JSON; client ${entry.clientID}'s is ${bytes}. This update was not applied.` }
        }
      }
      if (held && entry.clock < held.clock) continue
      if (held && entry.clock === held.clock && !(entry.state === null && held.state !== null)) continue
      owned.add(entry.clientID)
      accepted.push(entry)
    }
    if (owned.size > maxStatesPerConnection) {
      return { ok: false, code: 'too-large', message: `A connection may keep at most ${maxStatesPerConnection} presence client ids; this update would make ${owned.size}. It was not applied.` }
    }
    for (const entry of accepted) {
      this.states.set(entry.clientID, {
        clock: entry.clock,
        state: entry.state === null ? null : { ...entry.state, orchard: { ...peer.identity } },
        owner: peer,
        ...(entry.state === null ? { removedAt: Date.now() } : {})
      })
      this.changed.add(entry.clientID)
    }
    this.schedule()
    return { ok: true }
  }

  /** PRESENCE-4: a closed socket's states go at once, so nobody sees a ghost. */
  removePeer(peer: PresencePeer): void {
    for (const [clientID, held] of this.states) {
      if (held.owner !== peer || held.state === null) continue
      held.clock += 1
      held.state = null
      held.removedAt = Date.now()
      this.changed.add(clientID)
    }
    this.schedule()
  }

  /** PRESENCE-5: a role change is visible in presence at once. */
  restamp(memberId: string, role: string): void {
    for (const [clientID, held] of this.states) {
      if (held.owner.identity.memberId !== memberId || !held.state) continue
      held.state = { ...held.state, orchard: { ...held.owner.identity, role } }
      held.clock += 1
      this.changed.add(clientID)
    }
    this.schedule()
  }

  /** Every live state, for a peer that just subscribed; null if there are none. */
  snapshot(flavor: WireFlavor): Uint8Array | null {
    const entries: AwarenessEntry[] = []
    for (const [clientID, held] of this.states) if (held.state) entries.push({ clientID, clock: held.clock, state: held.state })
    return entries.length === 0 ? null : frame(flavor, this.channel, encodeAwarenessUpdate(entries))
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(): void {
    if (this.changed.size === 0 || this.timer) return
    const wait = Math.max(0, this.lastFlush + this.limits.intervalMs - Date.now())
    this.timer = setTimeout(() => this.flush(), wait)
  }

  private flush(): void {
    this.timer = null
    this.lastFlush = Date.now()
    const entries: AwarenessEntry[] = []
    for (const clientID of this.changed) {
      const held = this.states.get(clientID)
      if (held) entries.push({ clientID, clock: held.clock, state: held.state })
    }
    this.changed.clear()
    for (const [clientID, held] of this.states) {
      if (held.removedAt !== undefined && this.lastFlush - held.removedAt > TOMBSTONE_MS) this.states.delete(clientID)
    }
    if (entries.length === 0) return
    const update = this.encode(entries)
    const encoded: Partial<Record<WireFlavor, Uint8Array>> = {}
    for (const peer of this.peers()) {
      encoded[peer.flavor] ??= frame(peer.flavor, this.channel, update)
      peer.sendRaw(encoded[peer.flavor] as Uint8Array)
    }
  }

  /**
   * States were checked on the way in, so this cannot fail today; if it ever does, the
   * offending states are dropped and their owners closed, and everyone else still gets
   * the broadcast (ERRORS-1). It runs on a timer: a throw here would reach no connection.
   */
  private encode(entries: AwarenessEntry[]): Uint8Array {
    try {
      return encodeAwarenessUpdate(entries)
    } catch {
      const good: AwarenessEntry[] = []
      for (const entry of entries) {
        try {
          encodeAwarenessUpdate([entry])
          good.push(entry)
        } catch (error) {
          const held = this.states.get(entry.clientID)
          this.states.delete(entry.clientID)
          if (held) this.onFault(held.owner, error)
        }
      }
      return encodeAwarenessUpdate(good)
    }
  }
}

function frame(flavor: WireFlavor, channel: string, update: Uint8Array): Uint8Array {
  return flavor === 'orchard' ? encodeFrame(awarenessFrame(channel, update)) : encodeYwsMessage({ type: 'awareness', update })
}

function sameInstance(a: PresenceIdentity, b: PresenceIdentity): boolean {
  return a.memberId === b.memberId && a.instanceId === b.instanceId
}

function matchesIdentity(claimed: unknown, identity: PresenceIdentity): boolean {
  if (typeof claimed !== 'object' || claimed === null) return false
  const record = claimed as Record<string, unknown>
  return record.memberId === identity.memberId && record.instanceId === identity.instanceId
}
