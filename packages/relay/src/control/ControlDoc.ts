/**
 * The control doc (guid `<workspaceId>/control`): written only by the relay, synced
 * read-only to every client (CONTROL-1). It tells everyone who the members are, which
 * instances are connected, and (coordination) agents, leases and recent activity.
 * Clients ask the relay to change things; the relay decides and writes here.
 */
import type { MemberRole } from '@orchard/protocol'
import * as Y from 'yjs'

export interface ControlMember {
  name: string
  role: MemberRole
  joinedAt: number
}

export interface ControlInstance {
  memberId: string
  name: string
  role: MemberRole
  label: string
  since: number
}

export interface ActivityEntry {
  at: number
  type: string
  actor: { memberId: string; name: string; instanceId?: string } | null
  [field: string]: unknown
}

export const CONTROL_KEYS = {
  members: 'members',
  instances: 'instances',
  agents: 'agents',
  leases: 'leases',
  activity: 'activity'
} as const

export const RELAY_ORIGIN = Symbol('orchard:relay')

export class ControlDoc {
  readonly doc: Y.Doc
  readonly members: Y.Map<ControlMember>
  readonly instances: Y.Map<ControlInstance>
  readonly activity: Y.Array<ActivityEntry>

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

  /** ACTIVITY-1: appends an entry; the oldest fall off past the limit. */
  record(entry: ActivityEntry): void {
    this.write(() => {
      this.activity.push([entry])
      const excess = this.activity.length - this.activityLimit
      if (excess > 0) this.activity.delete(0, excess)
    })
  }
}
