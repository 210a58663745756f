/**
 * The control doc (guid `<workspaceId>/control`): written only by the relay, synced
 * read-only to every client (CONTROL-1). It tells everyone who the members are, which
 * instances are connected, and (coordination) agents, leases and recent activity.
 * Clients ask the relay to change things; the relay decides and writes here.
 */
import { CONTROL_KEYS, type ActivityEntry, type AgentRecord, type ControlInstance, type ControlMember, type LeaseRecord } from '@orchard/protocol'
import * as Y from 'yjs'

export type { ActivityEntry, AgentRecord, AgentStatus, ControlInstance, ControlMember, LeaseRecord } from '@orchard/protocol'
export { CONTROL_KEYS }

export const RELAY_ORIGIN = Symbol('orchard:relay')

export class ControlDoc {
  readonly doc: Y.Doc
  readonly members: Y.Map<ControlMember>
  readonly instances: Y.Map<ControlInstance>
  readonly activity: Y.Array<ActivityEntry>
  readonly agents: Y.Map<AgentRecord>
  readonly leases: Y.Map<LeaseRecord>

  constructor(
    workspaceId: string,
    updates: readonly Uint8Array[],
    private readonly activityLimit: number
  ) {
    this.doc = new Y.Doc({ guid: `${workspaceId}/control`, gc: true })
    for (const update of updates) Y.applyUpdate(this.doc, update, RELAY_ORIGIN)
    this.members = this.doc.getMap(CONTROL_KEYS.members)
    this.instances = this.doc.getMap(CONTROL_KEYS.instances)
    this.activity = this.doc.getArray(CONTROL_KEYS.activity)
    this.agents = this.doc.getMap(CONTROL_KEYS.agents)
    this.leases = this.doc.getMap(CONTROL_KEYS.leases)
  }

  setAgent(agent: AgentRecord): void {
    this.write(() => this.agents.set(agent.id, agent))
  }

  setLease(lease: LeaseRecord | null, agentId: string): void {
    this.write(() => {
      if (lease) this.leases.set(agentId, lease)
      else this.leases.delete(agentId)
    })
  }

  /** Every write goes through here, as one relay transaction. */
  write(fn: () => void): void {
    this.doc.transact(fn, RELAY_ORIGIN)
  }

  setMember(memberId: string, member: ControlMember): void {
    this.write(() => this.members.set(memberId, member))
  }

  deleteMember(memberId: string): void {
    this.write(() => this.members.delete(memberId))
  }

  addInstance(instanceId: string, instance: ControlInstance): void {
    this.write(() => this.instances.set(instanceId, instance))
  }

  removeInstance(instanceId: string): void {
    if (this.instances.has(instanceId)) this.write(() => this.instances.delete(instanceId))
  }

  /** CONTROL-2: nobody is connected when a room loads; clear what a previous run left. */
  clearInstances(): void {
    if (this.instances.size > 0) this.write(() => this.instances.clear())
  }

  /**
   * ACTIVITY-1: appends an entry; the oldest fall off past the limit. With `merge`, an
   * entry may replace the newest one instead (a burst of edits becomes one entry).
   */
  record(entry: ActivityEntry, merge?: (last: ActivityEntry) => ActivityEntry | null): void {
    this.write(() => {
      const last = this.activity.length > 0 ? this.activity.get(this.activity.length - 1) : undefined
      const merged = last && merge ? merge(last) : null
      if (merged) {
        this.activity.delete(this.activity.length - 1, 1)
        this.activity.push([merged])
        return
      }
      this.activity.push([entry])
      const excess = this.activity.length - this.activityLimit
      if (excess > 0) this.activity.delete(0, excess)
    })
  }
}
