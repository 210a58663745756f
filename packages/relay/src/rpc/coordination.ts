/**
 * Agents and their terminals' ownership (SPAWN-n, STOP-n, LEASE-n): the methods clients
 * call; the relay decides and records the outcome in the control doc.
 */
import { REFUSALS, can } from '@orchard/protocol'
import { z } from 'zod'
import { RpcError } from './RpcError.js'
import type { RpcRouter } from './RpcRouter.js'

const agentId = z.string().min(1).max(200)
const epoch = z.number().int().nonnegative()

export function registerCoordination(router: RpcRouter): void {
  router.register(
    'agent.spawn',
    z.object({
      projectId: z.string().min(1).max(200),
      name: z.string().min(1).max(200),
      options: z.unknown().optional(),
      key: z.string().min(1).max(200).optional(),
      onExisting: z.enum(['suffix', 'reuse']).optional()
    }),
    async (ctx, params) => ({ agent: await ctx.room.agents.spawn(ctx.peer, params) })
  )
  router.register('agent.stop', z.object({ agentId }), async (ctx, params) => ({ agent: await ctx.room.agents.stop(ctx.peer, params.agentId) }))
  router.register('lease.claim', z.object({ agentId, takeover: z.boolean().optional() }), async (ctx, params) => {
    if (!can(ctx.peer.identity.role, 'agent.claim')) throw new RpcError('forbidden', REFUSALS['agent.claim'])
    if (params.takeover && !can(ctx.peer.identity.role, 'agent.takeover')) throw new RpcError('forbidden', REFUSALS['agent.takeover'])
    const agent = ctx.room.agents.get(params.agentId)
    if (!agent) throw new RpcError('not-found', `There is no agent ${params.agentId} in this workspace.`)
    if (agent.status === 'stopped' || agent.status === 'failed') throw new RpcError('conflict', `Agent "${agent.name}" is ${agent.status}; there is no terminal to hold.`)
    return { lease: await ctx.room.leases.claim(ctx.peer, params.agentId, params.takeover ?? false) }
  })
  // From the agent's host instance only: the process ended on its own (STOP-4).
  router.register('agent.exited', z.object({ agentId, exitCode: z.number().int().nullable().optional(), signal: z.number().int().nullable().optional() }), (ctx, params) => {
    const agent = ctx.room.agents.get(params.agentId)
    if (!agent) throw new RpcError('not-found', `There is no agent ${params.agentId} in this workspace.`)
    if (!ctx.room.isInstance(ctx.peer, agent.hostInstanceId)) throw new RpcError('forbidden', `Only the instance running "${agent.name}" can report that it exited.`)
    return { agent: ctx.room.agents.exited(agent.id, params.exitCode ?? null, params.signal ?? null) }
  })
  // From the agent's host instance only: the terminal's size, shared with every viewer (TERM-7).
  router.register('terminal.size', z.object({ agentId, cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) }), (ctx, params) => {
    const agent = ctx.room.agents.get(params.agentId)
    if (!agent) throw new RpcError('not-found', `There is no agent ${params.agentId} in this workspace.`)
    if (!ctx.room.isInstance(ctx.peer, agent.hostInstanceId)) throw new RpcError('forbidden', `Only the instance running "${agent.name}" reports its terminal size.`)
    return { agent: ctx.room.agents.resized(agent.id, params.cols, params.rows) }
  })
  router.register('lease.renew', z.object({ agentId, epoch }), (ctx, params) => ({ lease: ctx.room.leases.renew(ctx.peer, params.agentId, params.epoch) }))
  router.register('lease.release', z.object({ agentId, epoch }), (ctx, params) => {
    if (!can(ctx.peer.identity.role, 'agent.stop')) throw new RpcError('forbidden', REFUSALS['agent.stop'])
    return ctx.room.leases.release(ctx.peer, params.agentId, params.epoch)
  })
}
