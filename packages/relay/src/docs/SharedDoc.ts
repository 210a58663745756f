/**
 * One document of a workspace as the relay serves it: its stored state and the sockets
 * subscribed to it. Updates reach subscribers only after they are durable (DOCS-3), and
 * each broadcast is encoded once per wire flavor and the same bytes go to every socket
 * (DOCS-4).
 */
import { encodeFrame, encodeYwsMessage, syncFrame } from '@orchard/protocol'
import * as Y from 'yjs'
import { DocState } from './DocState.js'
import { SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, encodeSyncMessage } from './sync-messages.js'
import { addsStructs, isCanonicalEmptyUpdate } from './validate-update.js'

export type WireFlavor = 'orchard' | 'yws'

/** Origin of mirror transactions that carry the relay's own updates. */
export const MIRROR_RELAY = Symbol('orchard:relay-update')

/** A socket subscribed to a doc. */
export interface DocSubscriber {
  readonly flavor: WireFlavor
  /** Sends bytes already framed for this subscriber's flavor. */
  sendRaw(bytes: Uint8Array): void
}

/** Who sent an update, so it is not echoed back and its frame can be acknowledged. */
export interface UpdateOrigin {
  subscriber: DocSubscriber
  /** Called once the update is durable (or refused), with the frame's sequence number. */
  settle(error?: { code: string; message: string }): void
  /** Already checked non-empty and valid (VALID-1): the pipeline need not decode it again. */
  checked?: boolean
}

export class SharedDoc {
  readonly subscribers = new Set<DocSubscriber>()
  private readonly state: DocState
  /** A Y.Doc kept in step with the state, built only when the relay must read the doc (SPAWN-4). */
  private mirror: Y.Doc | null = null
  /** Storage sequence of the newest stored update, and how many are stored uncompacted. */
  lastSeq: number
  storedUpdates: number

  constructor(
    /** Storage key: `<workspaceId>/<channel>`. */
    readonly docId: string,
    /** The channel name on the wire ('workspace' or 'control'). */
    readonly channel: string,
    updates: readonly Uint8Array[],
    lastSeq = 0,
    /** How many updates storage holds, when `updates` was already merged from them. */
    storedUpdates = updates.length
  ) {
    this.state = new DocState(updates)
    this.lastSeq = lastSeq
    this.storedUpdates = storedUpdates
  }

  get bytes(): number {
    return this.state.bytes
  }

  /** The whole doc as one update (for compaction and for building a Y.Doc). */
  fullUpdate(): Uint8Array {
    return this.state.fullUpdate()
  }

  /** Step 2 answering a peer's step 1, plus our own step 1 so the peer sends what we lack. */
  answerStep1(stateVector: Uint8Array): { step2: Uint8Array; step1: Uint8Array } {
    return {
      step2: encodeSyncMessage(SYNC_STEP2, this.state.diff(stateVector)),
      step1: encodeSyncMessage(SYNC_STEP1, this.state.stateVector())
    }
  }

  /**
   * VALID-3: whether an update from a peer that may not write here would change nothing, so
   * it passes quietly. A Yjs step 2 always carries its sender's whole delete set: a viewer
   * whose doc has deletions answers our step 1 with "no structs, deletions we already have".
   * Anything with structs is judged from its first byte and never decoded; a struct-free one
   * is read for its delete set alone (no content, so no subdocuments or deep values).
   */
  changesNothing(update: Uint8Array): boolean {
    if (isCanonicalEmptyUpdate(update)) return true
    if (addsStructs(update)) return false
    let ds: ReturnType<typeof Y.decodeUpdate>['ds']
    try {
      ds = Y.decodeUpdate(update).ds
    } catch {
      return false
    }
    return this.state.hasDeleted(ds)
  }

  /** VALID-6: the deepest shared type `update` would create here, counting the types it nests into. */
  deepestType(update: Uint8Array): number {
    return this.state.deepestType(update)
  }

  /** Our step 1, sent first to stock y-websocket clients (their server does the same). */
  step1(): Uint8Array {
    return encodeSyncMessage(SYNC_STEP1, this.state.stateVector())
  }

  /**
   * Makes a durable update visible: appends it to the state and broadcasts it. Senders
   * get only what others sent in the same batch, never their own update back.
   */
  /** The doc as a Y.Doc, built from the stored bytes on first use and kept current after. */
  materialize(): Y.Doc {
    if (!this.mirror) {
      this.mirror = new Y.Doc({ gc: true })
      Y.applyUpdate(this.mirror, this.state.fullUpdate())
    }
    return this.mirror
  }

  dispose(): void {
    this.mirror?.destroy()
    this.mirror = null
  }

  commit(merged: Uint8Array, seq: number, contributions: ReadonlyMap<DocSubscriber | null, Uint8Array[]>): void {
    this.state.append(merged)
    if (this.mirror) {
      // Each sender's part is applied on its own, with the sender as origin, so whoever
      // observes the mirror can tell who changed what (ACTIVITY-1).
      for (const [sender, updates] of contributions) {
        Y.applyUpdate(this.mirror, updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates), sender ?? MIRROR_RELAY)
      }
    }
    this.lastSeq = seq
    this.storedUpdates++
    const senders = [...contributions.keys()].filter((key): key is DocSubscriber => key !== null)
    const frames = new FrameCache(this.channel, merged)
    for (const subscriber of this.subscribers) {
      if (!contributions.has(subscriber)) subscriber.sendRaw(frames.get(subscriber.flavor))
    }
    if (contributions.size < 2) return
    for (const sender of senders) {
      if (!this.subscribers.has(sender)) continue
      const others = [...contributions].filter(([key]) => key !== sender).flatMap(([, updates]) => updates)
      const update = others.length === 1 ? (others[0] as Uint8Array) : Y.mergeUpdates(others)
      sender.sendRaw(new FrameCache(this.channel, update).get(sender.flavor))
    }
  }
}

/** Encodes an update frame at most once per flavor. */
class FrameCache {
  private orchard: Uint8Array | null = null
  private yws: Uint8Array | null = null
  constructor(
    private readonly channel: string,
    private readonly update: Uint8Array
  ) {}

  get(flavor: WireFlavor): Uint8Array {
    if (flavor === 'orchard') {
      this.orchard ??= encodeFrame(syncFrame(this.channel, encodeSyncMessage(SYNC_UPDATE, this.update)))
      return this.orchard
    }
    this.yws ??= encodeYwsMessage({ type: 'sync', body: encodeSyncMessage(SYNC_UPDATE, this.update) })
    return this.yws
  }
}
