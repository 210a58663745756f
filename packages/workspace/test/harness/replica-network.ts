/**
 * Replicas of one workspace joined by a network the test controls: every update a
 * replica makes is queued for every other replica, and the test decides when each is
 * delivered, in what order, whether it arrives twice, and who is offline. This is the
 * Yjs test suite's TestConnector idea, driven by fast-check's seeded randomness.
 */
import * as Y from 'yjs'
import { PearStore, type PearStoreOptions } from '@orchard/workspace'
import { recordingLogger } from '@orchard/workspace/testing'

const NET = Symbol('net')

export interface Replica {
  index: number
  store: PearStore
  online: boolean
  /** Updates waiting to reach this replica. */
  inbox: Uint8Array[]
}

export class ReplicaNetwork {
  readonly replicas: Replica[] = []
  private idCounter = 0

  private generation = 0

  add(options: Omit<PearStoreOptions, 'doc' | 'newId'> = {}): Replica {
    const index = this.replicas.length
    const replica: Replica = { index, store: this.open(index, options), online: true, inbox: [] }
    this.attach(replica)
    this.replicas.push(replica)
    return replica
  }

  /** A restart: the replica's store is closed (saving its file) and opened again from it. */
  async restart(replica: Replica, options: Omit<PearStoreOptions, 'doc' | 'newId'>): Promise<void> {
    await replica.store.close()
    replica.store = this.open(replica.index, options)
    this.attach(replica)
  }

  private open(index: number, options: Omit<PearStoreOptions, 'doc' | 'newId'>): PearStore {
    // A new session gets a new client id, as in Yjs; deterministic so seeds replay.
    const doc = new Y.Doc({ guid: 'fuzz-workspace' })
    doc.clientID = ++this.generation * 10 + index
    return new PearStore({ logger: recordingLogger(), ...options, doc, newId: () => `id-${index}-${++this.idCounter}` })
  }

  private attach(replica: Replica): void {
    replica.store.doc.on('updateV2', (update: Uint8Array, origin: unknown) => {
      // An offline replica's edits reach nobody now; they travel when it reconnects.
      if (origin === NET || !replica.online) return
      for (const other of this.replicas) if (other !== replica) other.inbox.push(update)
    })
  }

  /**
   * Going offline drops outgoing traffic; coming back sends the replica's whole state, as
   * a provider's reconnect sync does. So edits made offline survive only if the replica
   * kept them, across restarts through its projects.json.
   */
  setOnline(replica: Replica, online: boolean): void {
    if (replica.online === online) return
    replica.online = online
    if (!online) return
    const state = Y.encodeStateAsUpdateV2(replica.store.doc)
    for (const other of this.replicas) if (other !== replica) other.inbox.push(state)
  }

  /** Delivers one queued update to `replica` (if online); `keep` leaves it queued to arrive again. */
  deliver(replica: Replica, pick: number, keep: boolean): void {
    if (!replica.online || replica.inbox.length === 0) return
    const index = pick % replica.inbox.length
    const update = replica.inbox[index] as Uint8Array
    if (!keep) replica.inbox.splice(index, 1)
    Y.applyUpdateV2(replica.store.doc, update, NET)
  }

  /** Everyone online, every queued update delivered (in reverse order, to stress out-of-order integration). */
  deliverAll(): void {
    for (const replica of this.replicas) this.setOnline(replica, true)
    for (const replica of this.replicas) {
      while (replica.inbox.length > 0) {
        const update = replica.inbox.pop() as Uint8Array
        Y.applyUpdateV2(replica.store.doc, update, NET)
      }
    }
  }
}
