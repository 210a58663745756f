/**
 * SESSION-6 in process: everything a session started (socket, awareness timer, lease
 * renewals, host binding, presence) is gone after close(), so nothing keeps the process
 * alive. The child-process form (a process that must exit by itself) is
 * session-close.integration.test.ts.
 */
import type { LeaseRecord } from '@orchard/protocol'
import { describe, expect, it } from 'vitest'
import { WorkspaceSession } from '@orchard/client'
import { ScriptedRelay } from './harness/scripted-relay.js'

/** Handles that keep Node's event loop alive, by type (unref'd timers are not listed). */
function alive(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1
  return counts
}

describe('SESSION-6: close() releases everything', () => {
  it('[SESSION-6] after close() no timer of the session keeps the process alive, the socket is closed, leases stop renewing and presence is cleared', async () => {
    const before = alive()
    const relay = new ScriptedRelay()
    const lease: LeaseRecord = { agentId: 'agent-1', holderInstanceId: 'me', memberId: 'member-1', memberName: 'Owner', epoch: 1, expiresAt: Date.now() + 60_000, ttlMs: 60_000 }
    relay.methods['lease.claim'] = () => ({ result: { lease } })
    const session = await WorkspaceSession.open({ credential: 'orc_m.ws-1.member-1.secret', relayUrl: 'ws://127.0.0.1:9', transport: relay.transport(), instanceId: 'me', label: 'test' })
    session.presence.set({ projectId: 'p1' })
    await session.claim('agent-1')
    session.host({ spawn: async () => null, stop: async () => {}, write: () => {} })
    // While open, the session holds the process (the awareness check timer at least).
    expect(alive().Timeout ?? 0).toBeGreaterThan(before.Timeout ?? 0)
    await session.close()
    expect(alive().Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0)
    expect(relay.last.closed).toEqual({ code: 1000, reason: 'client disconnect' })
    expect(session.status).toBe('disconnected')
    expect(session.leases.all()).toEqual([])
    expect(session.awareness.getLocalState()).toBeNull()
    expect(relay.connections).toHaveLength(1)
  })
})
