/**
 * IDENT-3: a member who was removed and invited again rejoins from the same machine. Its
 * projects.json still holds the old instance id (bound to the old member, IDENT-1) and the
 * old credential; presenting that credential with the invite proves it is the same holder,
 * so the id is handed to the new member. Anyone else presenting a bound id is still
 * refused 4403 instance-taken. Real relay, real sockets, real projects.json files.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION, FrameKind, decodeFrame, encodeFrame, formatCredential, type Frame } from '@orchard/protocol'
import { SessionError, WorkspaceSession } from '@orchard/client'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'
import WebSocket from 'ws'

let relay: TestRelay
let owner: WorkspaceSession
let dir: string
const sessions: WorkspaceSession[] = []

beforeEach(async () => {
  relay = await startTestRelay()
  dir = mkdtempSync(joinPath(tmpdir(), 'orchard-reinvite-'))
  owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner', instanceId: 'owner-machine' })
  sessions.push(owner)
})
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close()
  await relay.close()
  rmSync(dir, { recursive: true, force: true })
})

async function join(role: 'editor' | 'viewer', name: string, file: string): Promise<WorkspaceSession> {
  const session = await WorkspaceSession.join(await owner.createInvite(role), { name, file, label: name })
  sessions.push(session)
  return session
}

async function leave(session: WorkspaceSession): Promise<void> {
  sessions.splice(sessions.indexOf(session), 1)
  await session.close()
}

/** A HELLO with exactly these fields; resolves with what came back before the close or WELCOME. */
async function hello(fields: Record<string, unknown>): Promise<{ frames: Frame[]; closed: { code: number; reason: string } | null }> {
  const ws = new WebSocket(`${relay.url}/orchard`)
  const out: { frames: Frame[]; closed: { code: number; reason: string } | null } = { frames: [], closed: null }
  ws.on('message', (data: Buffer) => out.frames.push(decodeFrame(new Uint8Array(data))))
  ws.on('close', (code, reason) => (out.closed = { code, reason: reason.toString() }))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  ws.send(encodeFrame({ kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, ...fields } as Frame))
  await eventually(() => out.closed ?? out.frames.find((frame) => frame.kind === FrameKind.welcome), { what: 'WELCOME or a close' })
  ws.close()
  return out
}

describe('a re-invited member', () => {
  it('[IDENT-3] removed and invited again, it rejoins from the same projects.json, keeps its instance id and reconnects with it', async () => {
    const file = joinPath(dir, 'alice.json')
    const first = await join('editor', 'Alice', file)
    const instanceId = first.instanceId
    const oldMemberId = first.memberId
    await owner.removeMember(oldMemberId)
    await eventually(() => first.status !== 'connected', { what: 'removed member disconnected' })
    await leave(first)

    // What the user does: paste the new invite on the same machine.
    const again = await join('editor', 'Alice', file)
    expect(again.instanceId).toBe(instanceId)
    expect(again.memberId).not.toBe(oldMemberId)
    expect(again.status).toBe('connected')
    expect(relay.core.auth.instanceMember(relay.workspaceId, instanceId)).toBe(again.memberId)
    // Reconnecting later with the new credential and the same id keeps working (IDENT-1).
    await leave(again)
    const reopened = await WorkspaceSession.open({ file })
    sessions.push(reopened)
    expect(reopened.instanceId).toBe(instanceId)
    expect(reopened.status).toBe('connected')
  })

  it('[IDENT-3] a member still in the workspace joining again with a new invite from its own machine keeps its instance id', async () => {
    const file = joinPath(dir, 'bob.json')
    const first = await join('viewer', 'Bob', file)
    const instanceId = first.instanceId
    await leave(first)
    const again = await join('editor', 'Bob', file)
    expect(again.instanceId).toBe(instanceId)
    expect(again.role).toBe('editor')
  })

  it('[IDENT-1] another member\'s credential does not unlock a bound id: a join naming it is refused 4403 instance-taken', async () => {
    const alice = await join('editor', 'Alice', joinPath(dir, 'alice.json'))
    const carol = await join('viewer', 'Carol', joinPath(dir, 'carol.json'))
    const carolCredential = carol.store.getRelayWorkspaceRecord()!.authKey!
    const invite = await owner.createInvite('viewer', { maxUses: 1 })
    const refused = await hello({ credential: invite, instanceId: alice.instanceId, name: 'Mallory', previousCredential: carolCredential })
    expect(refused.closed).toEqual({ code: 4403, reason: 'instance-taken' })
    expect(refused.frames.find((frame) => frame.kind === FrameKind.error)).toMatchObject({ code: 'forbidden', data: { reason: 'instance-taken' } })
    expect(relay.core.auth.instanceMember(relay.workspaceId, alice.instanceId)).toBe(alice.memberId)
    expect(alice.status).toBe('connected')
    // A made-up credential for Alice's member id, or a malformed one, is refused the same way.
    const forged = formatCredential({ workspaceId: relay.workspaceId, memberId: alice.memberId, secret: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
    for (const previousCredential of [forged, 'not-a-credential']) {
      const again = await hello({ credential: invite, instanceId: alice.instanceId, name: 'Mallory', previousCredential })
      expect(again.closed).toEqual({ code: 4403, reason: 'instance-taken' })
    }
    // The refusals spent nothing: the one-use invite still admits someone on their own id.
    const fresh = await hello({ credential: invite, instanceId: 'mallory-own', name: 'Mallory' })
    expect(fresh.frames.some((frame) => frame.kind === FrameKind.welcome)).toBe(true)
  })

  it('[IDENT-3] the client reports a refused rejoin as instance-taken, leaving projects.json as it was', async () => {
    const file = joinPath(dir, 'dave.json')
    const dave = await join('editor', 'Dave', file)
    const erin = await join('editor', 'Erin', joinPath(dir, 'erin.json'))
    // Erin's machine somehow carries Dave's instance id but not his credential (a copied id).
    const invite = await owner.createInvite('viewer')
    const before = readFileSync(joinPath(dir, 'erin.json'), 'utf8')
    const error = await WorkspaceSession.join(invite, { name: 'Erin', instanceId: dave.instanceId, file: joinPath(dir, 'erin.json') }).catch((e: unknown) => e)
    expect(readFileSync(joinPath(dir, 'erin.json'), 'utf8')).toBe(before)
    expect(error).toBeInstanceOf(SessionError)
    expect(String((error as Error).message)).toContain('already uses this instance id')
    expect(erin.status).toBe('connected')
  })
})
