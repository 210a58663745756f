/**
 * Workspaces, members and invites, kept in RecordStorage. The relay stores only hashes of
 * secrets (AUTH-2); a credential or invite is checked by id lookup plus a constant-time
 * hash comparison.
 */
import type { MemberRole } from '@orchard/protocol'
import type { RecordStorage } from '../storage/types.js'
import {
  formatCredential,
  formatInvite,
  hashSecret,
  parseCredential,
  parseInvite,
  randomId,
  secretMatches
} from './tokens.js'

export interface WorkspaceRecord {
  id: string
  name: string
  createdAt: number
}

export interface MemberRecord {
  id: string
  workspaceId: string
  name: string
  role: MemberRole
  secretHash: string
  createdAt: number
  /** The invite it joined with; absent for the workspace's creator. */
  inviteId?: string
  removedAt?: number
}

export interface InviteRecord {
  id: string
  workspaceId: string
  role: Exclude<MemberRole, 'owner'>
  secretHash: string
  createdAt: number
  createdBy: string
  expiresAt: number | null
  maxUses: number | null
  uses: number
  revokedAt?: number
}

/** Why a credential or invite was refused. Each maps to a close code and a message the user sees. */
export type AuthFailure =
  | 'credential-malformed'
  | 'credential-unknown'
  | 'member-removed'
  | 'workspace-unknown'
  | 'invite-malformed'
  | 'invite-unknown'
  | 'invite-expired'
  | 'invite-revoked'
  | 'invite-used-up'
  | 'invite-creator-removed'
  | 'instance-taken'

export const AUTH_FAILURE_MESSAGES: Record<AuthFailure, string> = {
  'credential-malformed': 'This is not an Orchard credential. Paste the whole credential or join again with an invite.',
  'credential-unknown': 'The relay does not recognize this credential. Ask the workspace owner for a new invite.',
  'member-removed': 'You were removed from this workspace. Ask the owner for a new invite to rejoin.',
  'workspace-unknown': 'This workspace does not exist on this relay.',
  'invite-malformed': 'This is not a valid invite. Check that you pasted the whole token.',
  'invite-unknown': 'The relay does not recognize this invite (it may have been altered). Ask for a new one.',
  'invite-expired': 'This invite has expired. Ask the workspace owner for a new one.',
  'invite-revoked': 'This invite was revoked by the workspace owner. Ask for a new one.',
  'invite-used-up': 'This invite has been used as many times as it allows. Ask for a new one.',
  'invite-creator-removed': 'The owner who made this invite is no longer an owner of this workspace, so it no longer admits anyone. Ask a current owner for a new invite.',
  'instance-taken':
    'Another member of this workspace already uses this instance id, so this connection was refused. Each machine keeps its own id: if Orchard\'s local state was copied from another machine, or you joined again after losing the credential this machine had, clear this instance\'s id (a new one is made) and connect again.'
}

/** An instance id's owner (IDENT-1): the member that first connected with it. */
export interface InstanceBinding {
  memberId: string
  boundAt: number
}

export class AuthError extends Error {
  override readonly name = 'AuthError'
  constructor(readonly failure: AuthFailure) {
    super(AUTH_FAILURE_MESSAGES[failure])
  }
}

export interface CreatedMember {
  member: MemberRecord
  credential: string
}

export interface CreatedInvite {
  invite: InviteRecord
  token: string
}

const WORKSPACE = 'workspace'
const MEMBER = 'member'
const INVITE = 'invite'
const INSTANCE = 'instance'

export class AuthRegistry {
  /** Bindings seen by this process, so per-frame checks need no storage round trip. */
  private readonly instances = new Map<string, string>()

  constructor(
    private readonly records: RecordStorage,
    private readonly now: () => number = Date.now
  ) {}

  async createWorkspace(name: string, ownerName: string): Promise<{ workspace: WorkspaceRecord } & CreatedMember> {
    const workspace: WorkspaceRecord = { id: randomId(9), name, createdAt: this.now() }
    await this.records.putRecord(WORKSPACE, workspace.id, workspace)
    const created = await this.addMember(workspace.id, ownerName, 'owner')
    return { workspace, ...created }
  }

  getWorkspace(id: string): Promise<WorkspaceRecord | undefined> {
    return this.records.getRecord<WorkspaceRecord>(WORKSPACE, id)
  }

  async listWorkspaces(): Promise<WorkspaceRecord[]> {
    return (await this.records.listRecords<WorkspaceRecord>(WORKSPACE)).map((entry) => entry.value)
  }

  async addMember(workspaceId: string, name: string, role: MemberRole, inviteId?: string): Promise<CreatedMember> {
    const secret = randomId(24)
    const member: MemberRecord = {
      id: randomId(9),
      workspaceId,
      name,
      role,
      secretHash: hashSecret(secret),
      createdAt: this.now(),
      ...(inviteId ? { inviteId } : {})
    }
    await this.records.putRecord(MEMBER, memberKey(workspaceId, member.id), member)
    return { member, credential: formatCredential({ workspaceId, memberId: member.id, secret }) }
  }

  /** AUTH-3: a member credential; throws AuthError with the reason it is refused. */
  async authenticate(credential: string): Promise<MemberRecord> {
    const parsed = parseCredential(credential.trim())
    if (!parsed) throw new AuthError('credential-malformed')
    const member = await this.records.getRecord<MemberRecord>(MEMBER, memberKey(parsed.workspaceId, parsed.memberId))
    if (!member || !secretMatches(parsed.secret, member.secretHash)) throw new AuthError('credential-unknown')
    if (member.removedAt !== undefined) throw new AuthError('member-removed')
    if (!(await this.getWorkspace(member.workspaceId))) throw new AuthError('workspace-unknown')
    return member
  }

  getMember(workspaceId: string, memberId: string): Promise<MemberRecord | undefined> {
    return this.records.getRecord<MemberRecord>(MEMBER, memberKey(workspaceId, memberId))
  }

  async listMembers(workspaceId: string): Promise<MemberRecord[]> {
    return (await this.records.listRecords<MemberRecord>(MEMBER, `${workspaceId}/`)).map((entry) => entry.value)
  }

  async setRole(workspaceId: string, memberId: string, role: MemberRole): Promise<MemberRecord | undefined> {
    return this.records.updateRecord<MemberRecord>(MEMBER, memberKey(workspaceId, memberId), (current) =>
      current && current.removedAt === undefined ? { ...current, role } : current
    )
  }

  async removeMember(workspaceId: string, memberId: string): Promise<MemberRecord | undefined> {
    return this.records.updateRecord<MemberRecord>(MEMBER, memberKey(workspaceId, memberId), (current) =>
      current && current.removedAt === undefined ? { ...current, removedAt: this.now() } : current
    )
  }

  async createInvite(
    workspaceId: string,
    options: { role: InviteRecord['role']; createdBy: string; relayUrl: string; expiresInMs?: number | null; maxUses?: number | null }
  ): Promise<CreatedInvite> {
    const secret = randomId(24)
    const invite: InviteRecord = {
      id: randomId(9),
      workspaceId,
      role: options.role,
      secretHash: hashSecret(secret),
      createdAt: this.now(),
      createdBy: options.createdBy,
      expiresAt: options.expiresInMs ? this.now() + options.expiresInMs : null,
      maxUses: options.maxUses ?? null,
      uses: 0
    }
    await this.records.putRecord(INVITE, memberKey(workspaceId, invite.id), invite)
    return { invite, token: formatInvite({ relay: options.relayUrl, workspaceId, inviteId: invite.id, secret }) }
  }

  async listInvites(workspaceId: string): Promise<InviteRecord[]> {
    return (await this.records.listRecords<InviteRecord>(INVITE, `${workspaceId}/`)).map((entry) => entry.value)
  }

  async revokeInvite(workspaceId: string, inviteId: string): Promise<InviteRecord | undefined> {
    return this.records.updateRecord<InviteRecord>(INVITE, memberKey(workspaceId, inviteId), (current) =>
      current && current.revokedAt === undefined ? { ...current, revokedAt: this.now() } : current
    )
  }

  /**
   * AUTH-4: redeems an invite for a new member. The use is counted atomically, so an
   * invite with maxUses N admits exactly N joins even when they race.
   */
  async redeemInvite(token: string, name: string, instanceId?: string, previousCredential?: string): Promise<CreatedMember> {
    const parsed = parseInvite(token)
    if (!parsed) throw new AuthError('invite-malformed')
    // IDENT-1: a new member owns an instance id that is already bound only if it proves to be
    // the holder the id is bound to (IDENT-3); refuse before the invite's use is spent and a
    // member is made for nothing.
    const bound = instanceId === undefined ? undefined : await this.boundMember(parsed.workspaceId, instanceId)
    if (bound !== undefined && !(await this.holdsCredentialOf(previousCredential, parsed.workspaceId, bound))) throw new AuthError('instance-taken')
    await this.checkInviteCreator(parsed.workspaceId, parsed.inviteId, parsed.secret)
    let failure: AuthFailure | undefined
    const key = memberKey(parsed.workspaceId, parsed.inviteId)
    const redeemed = await this.records.updateRecord<InviteRecord>(INVITE, key, (current) => {
      failure = this.inviteFailure(current, parsed.secret)
      return failure || !current ? current : { ...current, uses: current.uses + 1 }
    })
    if (failure) throw new AuthError(failure)
    if (!redeemed || !(await this.getWorkspace(redeemed.workspaceId))) throw new AuthError('workspace-unknown')
    const created = await this.addMember(redeemed.workspaceId, name, redeemed.role, redeemed.id)
    if (instanceId !== undefined && bound !== undefined) await this.handOverInstance(redeemed.workspaceId, instanceId, bound, created.member.id)
    return created
  }

  /**
   * IDENT-3: whether `credential` is the (possibly removed) member `memberId`'s own: the
   * secret only its holder has, so a rejoin from that machine, never a guess from the
   * control doc. A removed member's credential no longer connects (AUTH-5), but it still
   * proves whose machine this is.
   */
  private async holdsCredentialOf(credential: string | undefined, workspaceId: string, memberId: string): Promise<boolean> {
    const parsed = credential === undefined ? undefined : parseCredential(credential.trim())
    if (!parsed || parsed.workspaceId !== workspaceId || parsed.memberId !== memberId) return false
    const member = await this.getMember(workspaceId, memberId)
    return member !== undefined && secretMatches(parsed.secret, member.secretHash)
  }

  /** IDENT-3: rebinds an instance id from the member it was bound to, to its holder's new member. */
  private async handOverInstance(workspaceId: string, instanceId: string, from: string, to: string): Promise<void> {
    const key = memberKey(workspaceId, instanceId)
    const binding = (await this.records.updateRecord<InstanceBinding>(INSTANCE, key, (current) =>
      !current || current.memberId === from ? { memberId: to, boundAt: this.now() } : current
    )) as InstanceBinding
    this.instances.set(key, binding.memberId)
    if (binding.memberId !== to) throw new AuthError('instance-taken')
  }

  /** AUTH-8: an invite speaks for the owner who made it; once they are removed or demoted it admits no one. */
  private async checkInviteCreator(workspaceId: string, inviteId: string, secret: string): Promise<void> {
    const invite = await this.records.getRecord<InviteRecord>(INVITE, memberKey(workspaceId, inviteId))
    // Unknown or tampered: refused as such by the redeeming update, telling a guesser nothing more.
    if (!invite || !secretMatches(secret, invite.secretHash)) return
    const creator = await this.getMember(workspaceId, invite.createdBy)
    // Invites made by the relay itself (the CLI's first run, the admin API) have no member as creator.
    if (!creator) return
    if (creator.removedAt !== undefined || creator.role !== 'owner') throw new AuthError('invite-creator-removed')
  }

  /**
   * IDENT-1: binds `instanceId` to `memberId` durably the first time it is used in a
   * workspace; afterwards only that member may connect with it (AuthError 'instance-taken').
   */
  async bindInstance(workspaceId: string, instanceId: string, memberId: string): Promise<void> {
    const key = memberKey(workspaceId, instanceId)
    const cached = this.instances.get(key)
    if (cached === memberId) return
    if (cached !== undefined) throw new AuthError('instance-taken')
    const binding = (await this.records.updateRecord<InstanceBinding>(INSTANCE, key, (current) => current ?? { memberId, boundAt: this.now() })) as InstanceBinding
    this.instances.set(key, binding.memberId)
    if (binding.memberId !== memberId) throw new AuthError('instance-taken')
  }

  private async boundMember(workspaceId: string, instanceId: string): Promise<string | undefined> {
    const key = memberKey(workspaceId, instanceId)
    const cached = this.instances.get(key)
    if (cached !== undefined) return cached
    const binding = await this.records.getRecord<InstanceBinding>(INSTANCE, key)
    if (binding) this.instances.set(key, binding.memberId)
    return binding?.memberId
  }

  /** The member an instance id is bound to, as far as this process has seen (IDENT-2). */
  instanceMember(workspaceId: string, instanceId: string): string | undefined {
    return this.instances.get(memberKey(workspaceId, instanceId))
  }

  private inviteFailure(invite: InviteRecord | undefined, secret: string): AuthFailure | undefined {
    if (!invite || !secretMatches(secret, invite.secretHash)) return 'invite-unknown'
    if (invite.revokedAt !== undefined) return 'invite-revoked'
    if (invite.expiresAt !== null && this.now() >= invite.expiresAt) return 'invite-expired'
    if (invite.maxUses !== null && invite.uses >= invite.maxUses) return 'invite-used-up'
    return undefined
  }
}

function memberKey(workspaceId: string, id: string): string {
  return `${workspaceId}/${id}`
}
