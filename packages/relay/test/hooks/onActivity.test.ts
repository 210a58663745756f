import { describe, expect, it } from 'vitest'
import type { OnActivityPayload } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { coreWith } from './harness.js'

describe('onActivity', () => {
  it('[HOOK-4] fires for every activity entry the relay records', async () => {
    const seen: OnActivityPayload[] = []
    const { core, workspaceId, connect } = await coreWith({ onActivity: (payload) => seen.push(payload) })
    const client = connect('laptop')
    await client.whenSynced()
    await client.request('invite.create', { role: 'viewer' })
    await eventually(() => seen.some((payload) => payload.entry.type === 'invite-created'), { what: 'invite activity' })
    expect(seen.map((payload) => payload.entry.type)).toEqual(['joined', 'invite-created'])
    expect(seen[1]).toEqual({ workspaceId, entry: expect.objectContaining({ type: 'invite-created', role: 'viewer', actor: expect.objectContaining({ name: 'Owner', instanceId: 'laptop' }) }) })
    client.destroy()
    await core.close()
  })
})
