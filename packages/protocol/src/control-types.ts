/**
 * What the control doc holds (relay-written, read-only for clients). Shared types, so
 * the relay that writes them and the clients that read them agree.
 *   members    memberId   -> ControlMember
 *   instances  instanceId -> ControlInstance    (connected now)
 *   agents     agentId    -> AgentRecord
 *   leases     agentId    -> LeaseRecord        (who may type, and until when)
 *   activity   ActivityEntry[]                 (bounded, oldest first)
 */
import type { MemberRole } from './frames.js'

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

export type AgentStatus = 'spawning' | 'running' | 'stopping' | 'stopped' | 'failed'

export interface AgentRecord {
  id: string
  projectId: string
  name: string
  hostInstanceId: string
  status: AgentStatus
  spawnedBy: { memberId: string; name: string; instanceId: string }
  createdAt: number
  updatedAt: number
  /** The spawn's idempotency key, if it had one. */
  key?: string
  options?: unknown
  /** What the host reported when the agent started (pid, terminal size, ...). */
  info?: unknown
  /** Why it failed, in the host's words. */
  error?: string
}

export interface LeaseRecord {
  agentId: string
  holderInstanceId: string
  memberId: string
  memberName: string
  /** Fencing token: only grows, per agent, across relay restarts. */
  epoch: number
  /** Relay wall-clock time the lease ends unless renewed. */
  expiresAt: number
  ttlMs: number
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
