/**
 * AuthRegistry alone (AUTH-n, IDENT-1): workspaces, members, invites and instance bindings
 * over the in-memory record store, with a clock the test sets, so every refusal, boundary
 * (expiry to the millisecond, the last use) and stored field is checked exactly. The
 * end-to-end auth tests run over SQLite and a real socket, which the mutation run cannot
 * load; these were written for the mutants that left alive.
 */
import { createHash } from 'node:crypto'
import { beforeEach, describe, expect, it } from 'vitest'
import { formatInvite, parseCredential, parseInvite, type InviteToken } from '@orchard/protocol'
import { AUTH_FAILURE_MESSAGES, AuthError, AuthRegistry, type AuthFailure, type MemberRecord } from '../src/auth/AuthRegistry.js'
import { hashSecret, randomId, secretMatches } from '../src/auth/tokens.js'
import { MemoryStorage } from '../src/storage/MemoryStorage.js'

const RELAY = 'ws://127.0.0.1:1/orchard'

let now: number
let storage: MemoryStorage
let auth: AuthRegistry

beforeEach(() => {
  now = 1_000_000
  storage = new MemoryStorage()
  auth = new AuthRegistry(storage, () => now)
})

/** What the user is told: the AuthError's reason and its message. */
async function refusal(promise: Promise<unknown>): Promise<{ failure: AuthFailure; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught
  )
  if (!(error instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(error)}`)
  expect(error.name).toBe('AuthError')
  return { failure: error.failure, message: error.message }
}

async function workspaceWithOwner() {
  const created = await auth.createWorkspace('Garden', 'Olive')
  return { workspaceId: created.workspace.id, owner: created.member, ownerCredential: created.credential }
}

describe('AuthRegistry: secrets (AUTH-2)', () => {
  it('[AUTH-2] a secret is stored as its SHA-256 in base64url; only the same secret matches, and a hash of another length is no match', () => {
    expect(hashSecret('s3cret')).toBe(createHash('sha256').update('s3cret').digest('base64url'))
    expect(secretMatches('s3cret', hashSecret('s3cret'))).toBe(true)
    expect(secretMatches('s3cret!', hashSecret('s3cret'))).toBe(false)
    // A stored hash of another length (a damaged record) is a refusal, not a thrown RangeError.
    expect(secretMatches('s3cret', 'short')).toBe(false)
    expect(randomId()).toMatch(/^[A-Za-z0-9_-]{16}$/)
    expect(randomId(9)).toMatch(/^[A-Za-z0-9_-]{12}$/)
    expect(randomId(9)).not.toBe(randomId(9))
  })

  it('[AUTH-2] records hold hashes: the workspace, the owner and an invite are stored under their kinds with no secret in them', async () => {
    const { workspaceId, owner, ownerCredential } = await workspaceWithOwner()
    const secret = parseCredential(ownerCredential)?.secret as string
    expect(await storage.getRecord('workspace', workspaceId)).toEqual({ id: workspaceId, name: 'Garden', createdAt: now })
    const stored = await storage.getRecord<MemberRecord>('member', `${workspaceId}/${owner.id}`)
    expect(stored).toEqual({ id: owner.id, workspaceId, name: 'Olive', role: 'owner', secretHash: hashSecret(secret), createdAt: now })
    // The creator joined with no invite: the record has no inviteId at all.
    expect(stored && 'inviteId' in stored).toBe(false)
    expect('inviteId' in owner).toBe(false)
    const { invite, token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    const inviteSecret = parseInvite(token)?.secret as string
    expect(await storage.getRecord('invite', `${workspaceId}/${invite.id}`)).toEqual({ ...invite })
    expect(invite.secretHash).toBe(hashSecret(inviteSecret))
    expect(JSON.stringify(await auth.listInvites(workspaceId))).not.toContain(inviteSecret)
    expect(JSON.stringify(await auth.listMembers(workspaceId))).not.toContain(secret)
  })
})

describe('AuthRegistry: workspaces and members', () => {
  it('[AUTH-1] a new workspace has its creator as owner; the credential names workspace and member', async () => {
    const { workspaceId, owner, ownerCredential } = await workspaceWithOwner()
    expect(parseCredential(ownerCredential)).toMatchObject({ workspaceId, memberId: owner.id })
    expect(owner).toMatchObject({ workspaceId, name: 'Olive', role: 'owner', createdAt: now })
    expect(await auth.getWorkspace(workspaceId)).toEqual({ id: workspaceId, name: 'Garden', createdAt: now })
    expect(await auth.listWorkspaces()).toEqual([{ id: workspaceId, name: 'Garden', createdAt: now }])
    expect(await auth.getMember(workspaceId, owner.id)).toEqual(owner)
  })

  it('[AUTH-7] listings are per workspace: members and invites of another workspace are never listed', async () => {
    const a = await workspaceWithOwner()
    const b = await auth.createWorkspace('Orchard', 'Basil')
    await auth.addMember(a.workspaceId, 'Ada', 'editor')
    await auth.createInvite(b.workspace.id, { role: 'viewer', createdBy: b.member.id, relayUrl: RELAY })
    expect((await auth.listMembers(a.workspaceId)).map((member) => member.name).sort()).toEqual(['Ada', 'Olive'])
    expect((await auth.listMembers(b.workspace.id)).map((member) => member.name)).toEqual(['Basil'])
    expect(await auth.listInvites(a.workspaceId)).toEqual([])
    expect(await auth.listInvites(b.workspace.id)).toHaveLength(1)
    expect((await auth.listWorkspaces()).map((workspace) => workspace.name).sort()).toEqual(['Garden', 'Orchard'])
  })

  it('[AUTH-3] a credential is accepted with whitespace around it; malformed, unknown, wrong-secret and removed ones are refused with their reason', async () => {
    const { workspaceId, owner, ownerCredential } = await workspaceWithOwner()
    expect(await auth.authenticate(`  ${ownerCredential}\n`)).toEqual(owner)
    expect(await refusal(auth.authenticate('not a credential'))).toEqual({ failure: 'credential-malformed', message: AUTH_FAILURE_MESSAGES['credential-malformed'] })
    const parsed = parseCredential(ownerCredential) as { workspaceId: string; memberId: string; secret: string }
    const wrongSecret = ownerCredential.replace(parsed.secret, `${parsed.secret.slice(1)}x`)
    expect((await refusal(auth.authenticate(wrongSecret))).failure).toBe('credential-unknown')
    const unknownMember = ownerCredential.replace(parsed.memberId, 'nobody')
    expect((await refusal(auth.authenticate(unknownMember))).failure).toBe('credential-unknown')
    const { credential } = await auth.addMember(workspaceId, 'Ada', 'editor')
    const ada = await auth.authenticate(credential)
    await auth.removeMember(workspaceId, ada.id)
    expect((await refusal(auth.authenticate(credential))).failure).toBe('member-removed')
  })

  it('[AUTH-3] a credential for a workspace the relay no longer has is refused workspace-unknown', async () => {
    const { workspaceId, ownerCredential } = await workspaceWithOwner()
    await storage.deleteRecord('workspace', workspaceId)
    expect(await refusal(auth.authenticate(ownerCredential))).toEqual({ failure: 'workspace-unknown', message: AUTH_FAILURE_MESSAGES['workspace-unknown'] })
  })

  it('[AUTH-5] removing stamps the time once; a removed member keeps its role and cannot be given another; absent members stay absent', async () => {
    const { workspaceId } = await workspaceWithOwner()
    const { member } = await auth.addMember(workspaceId, 'Ada', 'editor')
    expect(await auth.setRole(workspaceId, member.id, 'viewer')).toMatchObject({ role: 'viewer' })
    expect(await auth.getMember(workspaceId, member.id)).toMatchObject({ role: 'viewer' })
    now += 10
    expect(await auth.removeMember(workspaceId, member.id)).toMatchObject({ removedAt: now })
    const removedAt = now
    now += 10
    expect(await auth.removeMember(workspaceId, member.id)).toMatchObject({ removedAt })
    expect(await auth.setRole(workspaceId, member.id, 'owner')).toMatchObject({ role: 'viewer', removedAt })
    expect(await auth.getMember(workspaceId, member.id)).toMatchObject({ role: 'viewer', removedAt })
    expect(await auth.setRole(workspaceId, 'ghost', 'owner')).toBeUndefined()
    expect(await auth.removeMember(workspaceId, 'ghost')).toBeUndefined()
    expect(await storage.getRecord('member', `${workspaceId}/ghost`)).toBeUndefined()
  })

  it('[AUTH-3] every refusal tells the user what happened and what to do', () => {
    for (const [failure, message] of Object.entries(AUTH_FAILURE_MESSAGES)) {
      expect(message.length, failure).toBeGreaterThan(20)
      expect(new AuthError(failure as AuthFailure).message).toBe(message)
    }
    expect(AUTH_FAILURE_MESSAGES['instance-taken']).toMatch(/clear this instance's id/)
  })
})

describe('AuthRegistry: invites (AUTH-4, AUTH-8)', () => {
  it('[AUTH-4] an invite records its role, creator, expiry and uses; the token names the relay, workspace and invite', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { invite, token } = await auth.createInvite(workspaceId, { role: 'viewer', createdBy: owner.id, relayUrl: RELAY, expiresInMs: 5_000, maxUses: 3 })
    expect(invite).toMatchObject({ workspaceId, role: 'viewer', createdBy: owner.id, createdAt: now, expiresAt: now + 5_000, maxUses: 3, uses: 0 })
    expect(parseInvite(token)).toMatchObject({ relay: RELAY, workspaceId, inviteId: invite.id })
    const open = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    expect(open.invite).toMatchObject({ expiresAt: null, maxUses: null, uses: 0 })
  })

  it('[AUTH-1] redeeming makes a member with the invite role and name, counts the use, and the new credential works', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { invite, token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    now += 5
    const joined = await auth.redeemInvite(token, 'Ada')
    expect(joined.member).toMatchObject({ workspaceId, name: 'Ada', role: 'editor', inviteId: invite.id, createdAt: now })
    expect(await auth.authenticate(joined.credential)).toEqual(joined.member)
    expect((await auth.listInvites(workspaceId))[0]).toMatchObject({ uses: 1 })
  })

  it('[AUTH-4] an invite expires at its expiry to the millisecond: one ms before it admits, at it it is refused', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY, expiresInMs: 1_000 })
    now += 999
    await auth.redeemInvite(token, 'Ada')
    now += 1
    expect(await refusal(auth.redeemInvite(token, 'Bea'))).toEqual({ failure: 'invite-expired', message: AUTH_FAILURE_MESSAGES['invite-expired'] })
  })

  it('[AUTH-4] maxUses N admits exactly N joins; the refused one spends nothing', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY, maxUses: 2 })
    await auth.redeemInvite(token, 'Ada')
    await auth.redeemInvite(token, 'Bea')
    expect((await refusal(auth.redeemInvite(token, 'Cy'))).failure).toBe('invite-used-up')
    expect((await auth.listInvites(workspaceId))[0]).toMatchObject({ uses: 2 })
    expect((await auth.listMembers(workspaceId)).map((member) => member.name).sort()).toEqual(['Ada', 'Bea', 'Olive'])
  })

  it('[AUTH-4] a revoked invite is refused; revoking stamps the time once; revoking an unknown invite creates nothing', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { invite, token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    now += 7
    expect(await auth.revokeInvite(workspaceId, invite.id)).toMatchObject({ revokedAt: now })
    const revokedAt = now
    now += 7
    expect(await auth.revokeInvite(workspaceId, invite.id)).toMatchObject({ revokedAt })
    expect(await refusal(auth.redeemInvite(token, 'Ada'))).toEqual({ failure: 'invite-revoked', message: AUTH_FAILURE_MESSAGES['invite-revoked'] })
    expect(await auth.revokeInvite(workspaceId, 'nope')).toBeUndefined()
    expect(await storage.getRecord('invite', `${workspaceId}/nope`)).toBeUndefined()
  })

  it('[AUTH-4] a malformed, unknown or tampered invite is refused as such', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { invite, token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    expect(await refusal(auth.redeemInvite('orchard-invite-garbage', 'Ada'))).toEqual({ failure: 'invite-malformed', message: AUTH_FAILURE_MESSAGES['invite-malformed'] })
    const parsed = parseInvite(token) as InviteToken
    const tampered = formatInvite({ relay: RELAY, workspaceId, inviteId: invite.id, secret: `${parsed.secret}x` })
    expect(await refusal(auth.redeemInvite(tampered, 'Ada'))).toEqual({ failure: 'invite-unknown', message: AUTH_FAILURE_MESSAGES['invite-unknown'] })
    const unknown = formatInvite({ relay: RELAY, workspaceId, inviteId: 'nope', secret: parsed.secret })
    expect((await refusal(auth.redeemInvite(unknown, 'Ada'))).failure).toBe('invite-unknown')
    expect(await storage.getRecord('invite', `${workspaceId}/nope`)).toBeUndefined()
    expect((await auth.listInvites(workspaceId))[0]).toMatchObject({ uses: 0 })
  })

  it('[AUTH-4] an invite to a workspace the relay no longer has is refused workspace-unknown', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    await storage.deleteRecord('workspace', workspaceId)
    expect((await refusal(auth.redeemInvite(token, 'Ada'))).failure).toBe('workspace-unknown')
  })

  it('[AUTH-8] an invite admits no one once its creator is removed or demoted; a wrong secret still reads invite-unknown; relay-made invites have no creator to check', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const second = await auth.addMember(workspaceId, 'Basil', 'owner')
    const byOwner = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    const bySecond = await auth.createInvite(workspaceId, { role: 'editor', createdBy: second.member.id, relayUrl: RELAY })
    const byRelay = await auth.createInvite(workspaceId, { role: 'editor', createdBy: 'relay', relayUrl: RELAY })
    await auth.setRole(workspaceId, owner.id, 'editor')
    await auth.removeMember(workspaceId, second.member.id)
    expect(await refusal(auth.redeemInvite(byOwner.token, 'Ada'))).toEqual({
      failure: 'invite-creator-removed',
      message: AUTH_FAILURE_MESSAGES['invite-creator-removed']
    })
    expect((await refusal(auth.redeemInvite(bySecond.token, 'Ada'))).failure).toBe('invite-creator-removed')
    const parsed = parseInvite(bySecond.token) as InviteToken
    const tampered = formatInvite({ relay: RELAY, workspaceId, inviteId: bySecond.invite.id, secret: `${parsed.secret}x` })
    expect((await refusal(auth.redeemInvite(tampered, 'Ada'))).failure).toBe('invite-unknown')
    expect((await auth.redeemInvite(byRelay.token, 'Ada')).member).toMatchObject({ role: 'editor' })
    // Neither refused invite spent a use.
    const invites = await auth.listInvites(workspaceId)
    expect(invites.find((entry) => entry.id === byOwner.invite.id)).toMatchObject({ uses: 0 })
    expect(invites.find((entry) => entry.id === bySecond.invite.id)).toMatchObject({ uses: 0 })
  })
})

describe('AuthRegistry: instance ids (IDENT-1)', () => {
  it('[IDENT-1] the first member to use an instance id owns it, durably under kind instance; another member is refused, also by a fresh registry', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    const { member: ada } = await auth.addMember(workspaceId, 'Ada', 'editor')
    await auth.bindInstance(workspaceId, 'laptop', owner.id)
    await auth.bindInstance(workspaceId, 'laptop', owner.id) // again: fine
    expect(await storage.getRecord('instance', `${workspaceId}/laptop`)).toEqual({ memberId: owner.id, boundAt: now })
    expect(auth.instanceMember(workspaceId, 'laptop')).toBe(owner.id)
    expect(await refusal(auth.bindInstance(workspaceId, 'laptop', ada.id))).toEqual({ failure: 'instance-taken', message: AUTH_FAILURE_MESSAGES['instance-taken'] })
    // The binding is per workspace.
    const other = await auth.createWorkspace('Other', 'Ada')
    await auth.bindInstance(other.workspace.id, 'laptop', other.member.id)
    // A restarted relay (nothing cached) reads the binding back.
    const restarted = new AuthRegistry(storage, () => now)
    expect(restarted.instanceMember(workspaceId, 'laptop')).toBeUndefined()
    expect((await refusal(restarted.bindInstance(workspaceId, 'laptop', ada.id))).failure).toBe('instance-taken')
    expect(restarted.instanceMember(workspaceId, 'laptop')).toBe(owner.id)
    const again = new AuthRegistry(storage, () => now)
    await again.bindInstance(workspaceId, 'laptop', owner.id)
    expect(again.instanceMember(workspaceId, 'laptop')).toBe(owner.id)
  })

  it('[IDENT-1] joining with an invite and a bound instance id is refused before the use is spent; an unbound id joins', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    await auth.bindInstance(workspaceId, 'laptop', owner.id)
    const { token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY, maxUses: 1 })
    expect((await refusal(auth.redeemInvite(token, 'Ada', 'laptop'))).failure).toBe('instance-taken')
    // A restarted relay reads the binding from storage, and then remembers it.
    const restarted = new AuthRegistry(storage, () => now)
    expect((await refusal(restarted.redeemInvite(token, 'Ada', 'laptop'))).failure).toBe('instance-taken')
    expect(restarted.instanceMember(workspaceId, 'laptop')).toBe(owner.id)
    expect((await auth.listInvites(workspaceId))[0]).toMatchObject({ uses: 0 })
    const joined = await restarted.redeemInvite(token, 'Ada', 'tablet')
    expect(joined.member.name).toBe('Ada')
    expect(restarted.instanceMember(workspaceId, 'tablet')).toBeUndefined()
  })

  it('[IDENT-1] a join that names no instance id checks no binding, even one whose id reads "undefined"', async () => {
    const { workspaceId, owner } = await workspaceWithOwner()
    await auth.bindInstance(workspaceId, 'undefined', owner.id)
    const { token } = await auth.createInvite(workspaceId, { role: 'editor', createdBy: owner.id, relayUrl: RELAY })
    expect((await auth.redeemInvite(token, 'Ada')).member.name).toBe('Ada')
  })
})
