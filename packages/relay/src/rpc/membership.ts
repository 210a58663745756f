/**
 * Invites and members (AUTH-n): owners create, list and revoke invites, change roles and
 * remove members. Changes reach live sockets at once (ROLE-2).
 */
import { REFUSALS, can, type Action } from '@orchard/protocol'
import { z } from 'zod'
import type { InviteRecord, MemberRecord } from '../auth/AuthRegistry.js'
import { RpcError } from './RpcError.js'
import type { RpcContext } from './rpc-port.js'
import type { RpcRouter } from './RpcRouter.js'

export function requireRole(ctx: RpcContext, action: Action): void {
  if (!can(ctx.peer.identity.role, action)) throw new RpcError('forbidden', REFUSALS[action])
}

/** What a member listing shows: never a secret or its hash. */
export function publicMember(member: MemberRecord) {
  return { id: member.id, name: member.name, role: member.role, createdAt: member.createdAt, removed: member.removedAt !== undefined }
}

export function publicInvite(invite: InviteRecord) {
  return {
    id: invite.id,
    role: invite.role,
    createdAt: invite.createdAt,
    createdBy: invite.createdBy,
    expiresAt: invite.expiresAt,
    maxUses: invite.maxUses,
    uses: invite.uses,
    revoked: invite.revokedAt !== undefined
  }
}

const role = z.enum(['owner', 'editor', 'viewer'])

export function registerMembership(router: RpcRouter): void {
  router.register(
    'invite.create',
    z.object({
      role: z.enum(['editor', 'viewer']),
      expiresInMs: z.number().int().positive().max(366 * 24 * 3600 * 1000).nullable().optional(),
      maxUses: z.number().int().positive().max(1_000_000).nullable().optional()
    }),
    async (ctx, params) => {
      requireRole(ctx, 'invite.manage')
      const { invite, token } = await ctx.room.core.auth.createInvite(ctx.room.id, {
        role: params.role,
        createdBy: ctx.peer.identity.memberId,
        relayUrl: ctx.room.core.publicUrl,
        expiresInMs: params.expiresInMs ?? null,
        maxUses: params.maxUses ?? null
      })
      ctx.room.recordActivity(ctx.peer, 'invite-created', { role: params.role, inviteId: invite.id })
      return { token, invite: publicInvite(invite) }
    }
  )
  router.register('invite.list', z.object({}), async (ctx) => {
    requireRole(ctx, 'invite.manage')
    return (await ctx.room.core.auth.listInvites(ctx.room.id)).map(publicInvite)
  })
  router.register('invite.revoke', z.object({ inviteId: z.string().min(1) }), async (ctx, params) => {
    requireRole(ctx, 'invite.manage')
    const invite = await ctx.room.core.auth.revokeInvite(ctx.room.id, params.inviteId)
    if (!invite) throw new RpcError('not-found', `No invite ${params.inviteId} in this workspace.`)
    ctx.room.recordActivity(ctx.peer, 'invite-revoked', { inviteId: invite.id })
    return publicInvite(invite)
  })
  router.register('member.list', z.object({}), async (ctx) => {
    return (await ctx.room.core.auth.listMembers(ctx.room.id)).filter((member) => member.removedAt === undefined).map(publicMember)
  })
  router.register('member.setRole', z.object({ memberId: z.string().min(1), role }), async (ctx, params) => {
    requireRole(ctx, 'member.manage')
    await assertNotLastOwner(ctx, params.memberId, params.role)
    const member = await ctx.room.core.auth.setRole(ctx.room.id, params.memberId, params.role)
    if (!member || member.removedAt !== undefined) throw new RpcError('not-found', `No member ${params.memberId} in this workspace.`)
    ctx.room.applyRole(member)
    ctx.room.recordActivity(ctx.peer, 'role-changed', { memberId: member.id, memberName: member.name, role: member.role })
    return publicMember(member)
  })
  router.register('member.remove', z.object({ memberId: z.string().min(1) }), async (ctx, params) => {
    requireRole(ctx, 'member.manage')
    await assertNotLastOwner(ctx, params.memberId, null)
    const member = await ctx.room.core.auth.removeMember(ctx.room.id, params.memberId)
    if (!member) throw new RpcError('not-found', `No member ${params.memberId} in this workspace.`)
    ctx.room.applyRemoval(member)
    ctx.room.recordActivity(ctx.peer, 'member-removed', { memberId: member.id, memberName: member.name })
    return publicMember(member)
  })
}

/** AUTH-6: a workspace always keeps an owner; the last one cannot be demoted or removed. */
async function assertNotLastOwner(ctx: RpcContext, memberId: string, newRole: string | null): Promise<void> {
  if (newRole === 'owner') return
  const members = await ctx.room.core.auth.listMembers(ctx.room.id)
  const owners = members.filter((member) => member.role === 'owner' && member.removedAt === undefined)
  if (owners.length === 1 && owners[0]?.id === memberId) {
    throw new RpcError('conflict', 'This is the workspace\'s only owner. Make someone else an owner first.')
  }
}
