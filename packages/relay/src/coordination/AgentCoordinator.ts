/**
 * Spawning and stopping agents from any instance (SPAWN-n, STOP-n). The relay decides:
 * it allocates names, coalesces identical spawns, asks the project's host instance to do
 * the work, and records every outcome in the control doc, so two instances can never
 * start the same agent twice and a stop is safe from anywhere.
 */
import { REFUSALS, can } from '@orchard/protocol'
import type { WorkspaceModel } from '@orchard/workspace/browser'
import type { AgentRecord, ControlDoc } from '../control/ControlDoc.js'
import type { RoomPeer } from '../connection/types.js'
import { randomId } from '../auth/tokens.js'
import { availableAgentName, spawnCoalesceKey } from './agent-names.js'
import { RpcError } from '../rpc/RpcError.js'
import type { HostRequests } from './HostRequests.js'
import type { LeaseManager } from './LeaseManager.js'

/**
 * What agent coordination needs of its workspace room, declared here so this module imports
 * nothing above it: the control doc it records agents in, the projects (for a project's
 * host), the connected instances, and the terminals to free when an agent ends.
 */
export interface AgentRoom {
  readonly control: Pick<ControlDoc, 'agents' | 'setAgent'>
  workspaceModel(): Pick<WorkspaceModel, 'getProject'>
  peerForInstance(instanceId: string): RoomPeer | undefined
  readonly terminals: { drop(agentId: string): void }
  recordActivity(peer: RoomPeer | null, type: string, fields: Record<string, unknown>): void
}

export interface SpawnParams {
  projectId: string
  name: string
  options?: unknown
  /** Idempotency key: every spawn with this key gets the same agent (SPAWN-2). */
  key?: string
  /** What to do when an agent with this name is live: start another with a free name (default) or reuse it. */
  onExisting?: 'suffix' | 'reuse'
}

const LIVE = new Set(['spawning', 'running', 'stopping'])

export class AgentCoordinator {
  private readonly inFlight = new Map<string, Promise<AgentRecord>>()
  private readonly spawning = new Map<string, Promise<AgentRecord>>()
  private readonly stopping = new Map<string, Promise<AgentRecord>>()

  constructor(
    private readonly room: AgentRoom,
    private readonly hosts: HostRequests,
    private readonly leases: Pick<LeaseManager, 'drop'>,
    private readonly hostTimeoutMs: number
  ) {}

  get(agentId: string): AgentRecord | undefined {
    return this.room.control.agents.get(agentId)
  }

  /** STOP-4: the process ended by itself; it is stopped for everyone and its lease ends. */
  exited(agentId: string, exitCode: number | null, signal: number | null): AgentRecord {
    const agent = this.get(agentId) as AgentRecord
    if (agent.status === 'stopped' || agent.status === 'failed') return agent
    const stopped: AgentRecord = { ...agent, status: 'stopped', updatedAt: Date.now(), info: { ...(isObject(agent.info) ? agent.info : {}), exitCode, signal } }
    this.room.control.setAgent(stopped)
    this.leases.drop(agentId, 'exited', null)
    this.room.terminals.drop(agentId)
    this.room.recordActivity(null, 'exited', { agentId, agentName: agent.name, projectId: agent.projectId, exitCode, signal })
    return stopped
  }

  /** TERM-7: the terminal's size as the host last set it, in the agent record everyone reads. */
  resized(agentId: string, cols: number, rows: number): AgentRecord {
    const agent = this.get(agentId) as AgentRecord
    const next: AgentRecord = { ...agent, updatedAt: Date.now(), info: { ...(isObject(agent.info) ? agent.info : {}), cols, rows } }
    this.room.control.setAgent(next)
    return next
  }

  /** SPAWN-1: identical spawns in flight coalesce; the first caller's request does the work. */
  spawn(peer: RoomPeer, params: SpawnParams): Promise<AgentRecord> {
    if (!can(peer.identity.role, 'agent.spawn')) return Promise.reject(new RpcError('forbidden', REFUSALS['agent.spawn']))
    if (params.key) {
      const existing = [...this.room.control.agents.values()].find((agent) => agent.key === params.key && agent.projectId === params.projectId && agent.status !== 'failed' && agent.status !== 'stopped')
      if (existing) return Promise.resolve(existing)
    }
    const coalesce = params.key ? `key\u0000${params.projectId}\u0000${params.key}` : spawnCoalesceKey(params.projectId, params.name, params.options, params.onExisting ?? 'suffix')
    const pending = this.inFlight.get(coalesce)
    if (pending) return pending
    const started = this.doSpawn(peer, params).finally(() => this.inFlight.delete(coalesce))
    this.inFlight.set(coalesce, started)
    return started
  }

  /** STOP-1: idempotent; STOP-3: a stop during a spawn waits for it, then stops what started. */
  stop(peer: RoomPeer, agentId: string): Promise<AgentRecord> {
    if (!can(peer.identity.role, 'agent.stop')) return Promise.reject(new RpcError('forbidden', REFUSALS['agent.stop']))
    const agent = this.get(agentId)
    if (!agent) return Promise.reject(new RpcError('not-found', `There is no agent ${agentId} in this workspace.`))
    if (agent.status === 'stopped' || agent.status === 'failed') return Promise.resolve(agent)
    const pending = this.stopping.get(agentId)
    if (pending) return pending
    const started = this.doStop(peer, agentId).finally(() => this.stopping.delete(agentId))
    this.stopping.set(agentId, started)
    return started
  }

  private async doSpawn(peer: RoomPeer, params: SpawnParams): Promise<AgentRecord> {
    const project = this.room.workspaceModel().getProject(params.projectId)
    if (!project) throw new RpcError('not-found', `There is no project ${params.projectId} in this workspace.`)
    const hostInstanceId = project.host?.instanceId
    if (!hostInstanceId) {
      throw new RpcError('conflict', `Project "${project.name}" has no host instance, so nothing can run its agents. Set one with setProjectHost first.`)
    }
    const host = this.room.peerForInstance(hostInstanceId)
    if (!host) {
      const label = project.host?.label ?? hostInstanceId
      throw new RpcError('host-offline', `The instance that runs "${project.name}"'s agents (${label}) is offline; agents can start once it reconnects.`)
    }
    const requested = params.name.trim()
    if (!requested) throw new RpcError('invalid-params', 'An agent needs a name.')
    const live = [...this.room.control.agents.values()].filter((agent) => agent.projectId === params.projectId && LIVE.has(agent.status))
    if (params.onExisting === 'reuse') {
      const same = live.find((agent) => agent.name === requested)
      if (same) return this.spawning.get(same.id) ?? same
    }
    const name = freeName(requested, new Set(live.map((agent) => agent.name)))
    const now = Date.now()
    const agent: AgentRecord = {
      id: `ag_${randomId(9)}`,
      projectId: params.projectId,
      name,
      hostInstanceId,
      status: 'spawning',
      spawnedBy: { memberId: peer.identity.memberId, name: peer.identity.name, instanceId: peer.identity.instanceId },
      createdAt: now,
      updatedAt: now,
      ...(params.key ? { key: params.key } : {}),
      ...(params.options !== undefined ? { options: params.options } : {})
    }
    // Recorded before the host is asked: the name is taken from this moment (SPAWN-3).
    this.room.control.setAgent(agent)
    const spawned = this.askHost(host, agent, peer)
    this.spawning.set(agent.id, spawned)
    try {
      return await spawned
    } finally {
      this.spawning.delete(agent.id)
    }
  }

  private async askHost(host: RoomPeer, agent: AgentRecord, peer: RoomPeer): Promise<AgentRecord> {
    try {
      const info = await this.hosts.request(host, 'host.spawn', { agentId: agent.id, projectId: agent.projectId, name: agent.name, options: agent.options ?? null }, this.hostTimeoutMs)
      const running: AgentRecord = { ...agent, status: 'running', updatedAt: Date.now(), ...(info !== null && info !== undefined ? { info } : {}) }
      this.room.control.setAgent(running)
      this.room.recordActivity(peer, 'spawned', { agentId: agent.id, projectId: agent.projectId, agentName: agent.name })
      return running
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const failed: AgentRecord = { ...agent, status: 'failed', updatedAt: Date.now(), error: message }
      this.room.control.setAgent(failed)
      this.room.recordActivity(peer, 'spawn-failed', { agentId: agent.id, projectId: agent.projectId, agentName: agent.name, error: message })
      if (error instanceof RpcError && error.code !== 'host-error') throw error
      throw new RpcError('host-error', `The host could not start "${agent.name}": ${message}`, { agentId: agent.id })
    }
  }

  private async doStop(peer: RoomPeer, agentId: string): Promise<AgentRecord> {
    const spawning = this.spawning.get(agentId)
    if (spawning) {
      const outcome = await spawning.catch(() => undefined)
      if (!outcome || outcome.status !== 'running') return this.get(agentId) as AgentRecord
    }
    const agent = this.get(agentId) as AgentRecord
    if (agent.status === 'stopped' || agent.status === 'failed') return agent
    const host = this.room.peerForInstance(agent.hostInstanceId)
    if (!host) {
      throw new RpcError('host-offline', `The instance running "${agent.name}" is offline, so it cannot be stopped now; try again when it reconnects.`)
    }
    this.room.control.setAgent({ ...agent, status: 'stopping', updatedAt: Date.now() })
    try {
      await this.hosts.request(host, 'host.stop', { agentId }, this.hostTimeoutMs)
    } catch (error) {
      // Still running as far as anyone knows; say so and let the caller retry.
      this.room.control.setAgent({ ...agent, status: 'running', updatedAt: Date.now() })
      throw error instanceof RpcError ? error : new RpcError('host-error', String(error))
    }
    const stopped: AgentRecord = { ...agent, status: 'stopped', updatedAt: Date.now() }
    this.room.control.setAgent(stopped)
    this.leases.drop(agentId, 'stopped', peer)
    this.room.terminals.drop(agentId)
    this.room.recordActivity(peer, 'stopped', { agentId, agentName: agent.name, projectId: agent.projectId })
    return stopped
  }
}

/** SPAWN-3: alice, alice-2, alice-3, ... the first not taken; `alice-2` taken gives `alice-3` (agent-names.ts). */
export function freeName(requested: string, taken: ReadonlySet<string>): string {
  return availableAgentName(requested, taken)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
