/**
 * Invites, credentials and membership through a real relay on a real port with SQLite.
 * Each refusal is checked for what the user sees: the close code and the message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RelayProvider, SessionError, WorkspaceSession, webSocketTransport, type StopReason } from '@orchard/client'
import { formatInvite, parseInvite } from '@orchard/protocol'
import { startTestRelay, type TestRelay } from '@orchard/relay/testing'

let relay: TestRelay
/** Added to the relay's clock: invite expiry is tested by stepping it, not by sleeping. */
let clockOffset = 0
let owner: WorkspaceSession
const sessions: WorkspaceSession[] = []

beforeAll(async () => {
  relay = await startTestRelay({ now: () => Date.now() + clockOffset })
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner' })
})
afterAll(async () => {
  for (const session of sessions) await session.close()
  await owner.close()
  await relay.close()
})

async function join(invite: string, name = 'Guest'): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.join(invite, { name, connectTimeoutMs: 5_000 })
  sessions.push(session)
  return session
}

async function refusal(invite: string): Promise<SessionError> {
  const error = await join(invite).then(
    () => undefined,
    (caught: unknown) => caught
  )
  expect(error).toBeInstanceOf(SessionError)
  return error as SessionError
}

describe('joining with invites', () => {
  it('[AUTH-1] an invite joins as a new member with its role and name, credential issued in WELCOME', async () => {
    const invite = await owner.createInvite('viewer')
    const viewer = await join(invite, 'Vera')
    expect(viewer.role).toBe('viewer')
    expect(viewer.store.getRelayWorkspaceRecord()?.authKey).toMatch(/^orc_m\./)
    const members = await owner.listMembers()
    expect(members).toContainEqual(expect.objectContaining({ name: 'Vera', role: 'viewer' }))
  })

  it('[AUTH-4] an expired invite is refused with 4401 and says so', async () => {
    const invite = await owner.createInvite('editor', { expiresInMs: 60_000 })
    clockOffset += 60_000
    const error = await refusal(invite)
    expect(error).toMatchObject({ closeCode: 4401, code: 'invite-expired', message: expect.stringContaining('expired') })
  })

  it('[AUTH-4] a revoked invite is refused with its reason', async () => {
    const invite = await owner.createInvite('editor')
    await owner.revokeInvite(parseInvite(invite)!.inviteId)
    expect(await refusal(invite)).toMatchObject({ closeCode: 4401, code: 'invite-revoked', message: expect.stringContaining('revoked') })
  })

  it('[AUTH-4] a used-up invite admits exactly maxUses joins, even racing', async () => {
    const invite = await owner.createInvite('editor', { maxUses: 2 })
    const results = await Promise.allSettled([join(invite, 'a'), join(invite, 'b'), join(invite, 'c'), join(invite, 'd')])
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2)
    const refused = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected')
    for (const result of refused) expect(result.reason).toMatchObject({ closeCode: 4401, code: 'invite-used-up' })
  })

  it('[AUTH-4] a tampered or malformed invite is refused', async () => {
    const real = parseInvite(await owner.createInvite('editor'))!
    const tampered = formatInvite({ relay: real.relay, workspaceId: real.workspaceId, inviteId: real.inviteId, secret: real.secret + 'x' })
    expect(await refusal(tampered)).toMatchObject({ closeCode: 4401, code: 'invite-unknown', message: expect.stringContaining('not recognize') })
    const forged = formatInvite({ relay: real.relay, workspaceId: real.workspaceId, inviteId: 'no-such-invite', secret: 's' })
    expect(await refusal(forged)).toMatchObject({ closeCode: 4401, code: 'invite-unknown' })
    await expect(join('orchard-invite:garbage')).rejects.toMatchObject({ code: 'invite-malformed' })
  })

  it('[AUTH-3] [SERVER-2] bad credentials are closed with 4401 after the upgrade, with a reason', async () => {
    const base = { relayUrl: relay.url, waitForRelay: true, connectTimeoutMs: 5_000 }
    await expect(WorkspaceSession.open({ ...base, credential: `orc_m.${relay.workspaceId}.nobody.secret` })).rejects.toMatchObject({
      closeCode: 4401,
      code: 'credential-unknown'
    })
    const [, ws, member] = relay.ownerCredential.split('.')
    await expect(WorkspaceSession.open({ ...base, credential: `orc_m.${ws}.${member}.wrong-secret` })).rejects.toMatchObject({ closeCode: 4401, code: 'credential-unknown' })
    await expect(WorkspaceSession.open({ ...base, credential: 'orc_m.x' })).rejects.toMatchObject({ code: 'credential-malformed' })
    // The relay refuses it too, for clients that do not check first.
    const provider = new RelayProvider({ transport: webSocketTransport(relay.url), credential: 'not-a-credential', instanceId: 'raw', docs: {} })
    const stopped = await new Promise<StopReason>((resolve) => provider.on('stopped', resolve))
    provider.destroy()
    expect(stopped).toMatchObject({ code: 4401, reason: 'credential-malformed', message: expect.stringContaining('not an Orchard credential') })
  })

  it('[AUTH-2] [AUTH-7] only owners manage invites and members; listings show no secrets', async () => {
    const editor = await join(await owner.createInvite('editor'), 'Eddie')
    await expect(editor.createInvite('viewer')).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('Only a workspace owner') })
    await expect(editor.setMemberRole(owner.memberId, 'viewer')).rejects.toMatchObject({ code: 'forbidden' })
    const invites = await owner.listInvites()
    const text = JSON.stringify(invites) + JSON.stringify(await owner.listMembers())
    expect(text).not.toMatch(/secret|Hash|orc_m\./)
    const dump = await relay.core.storage.listRecords('member')
    expect(JSON.stringify(dump)).not.toContain(relay.ownerCredential.split('.')[3])
  })

  it('[AUTH-6] the last owner cannot be demoted or removed', async () => {
    await expect(owner.setMemberRole(owner.memberId, 'editor')).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('only owner') })
    await expect(owner.removeMember(owner.memberId)).rejects.toMatchObject({ code: 'conflict' })
  })
})
