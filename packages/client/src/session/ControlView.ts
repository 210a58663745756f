/**
 * The control doc as a session reads it: members, connected instances, agents, leases and
 * the activity feed, all written by the relay alone. New feed entries become `activity`
 * events as they arrive (SESSION-5).
 */
import type { ActivityEntry, AgentRecord, ControlInstance, ControlMember, LeaseRecord } from '@orchard/protocol'
import { ObservableV2 } from 'lib0/observable'
import type * as Y from 'yjs'

export type ControlViewEvents = {
  activity: (entry: ActivityEntry) => void
}

export class ControlView extends ObservableV2<ControlViewEvents> {
  private readonly feed: Y.Array<ActivityEntry>
  private readonly onFeed: (event: Y.YArrayEvent<ActivityEntry>) => void

  constructor(private readonly doc: Y.Doc) {
    super()
    this.feed = doc.getArray<ActivityEntry>('activity')
    // The relay only appends to the feed (and trims its head): inserts are the new entries.
    this.onFeed = (event) => {
      for (const delta of event.changes.delta) {
        if (delta.insert) for (const entry of delta.insert as ActivityEntry[]) this.emit('activity', [entry])
      }
    }
    this.feed.observe(this.onFeed)
  }

  members(): Map<string, ControlMember> {
    return new Map(this.doc.getMap<ControlMember>('members').entries())
  }

  /** Instances connected now, by instance id. */
  instances(): Map<string, ControlInstance> {
    return new Map(this.doc.getMap<ControlInstance>('instances').entries())
  }

  /** Every agent the relay knows, newest first. */
  agents(): AgentRecord[] {
    return [...this.doc.getMap<AgentRecord>('agents').values()].sort((a, b) => b.createdAt - a.createdAt)
  }

  agent(agentId: string): AgentRecord | undefined {
    return this.doc.getMap<AgentRecord>('agents').get(agentId)
  }

  /** The lease the relay says is in force for an agent (anyone's), if any. */
  leaseOf(agentId: string): LeaseRecord | undefined {
    return this.doc.getMap<LeaseRecord>('leases').get(agentId)
  }

  /** The activity feed, oldest first. */
  activity(): ActivityEntry[] {
    return this.feed.toArray()
  }

  override destroy(): void {
    this.feed.unobserve(this.onFeed)
    super.destroy()
  }
}
