import { describe, expect, it } from 'vitest'
import type { OnDisconnectPayload } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { coreWith } from './harness.js'

describe('onDisconnect', () => {
  it('[HOOK-2] fires when an authenticated connection closes', async () => {
    const seen: OnDisconnectPayload[] = []
    const { core, workspaceId, connect } = await coreWith({ onDisconnect: (payload) => seen.push(payload) })
    const client = connect('laptop')
    await client.whenSynced()
    expect(seen).toEqual([])
    client.destroy()
    await eventually(() => seen.length === 1, { what: 'onDisconnect' })
    expect(seen[0]).toMatchObject({ workspaceId, flavor: 'orchard', identity: expect.objectContaining({ instanceId: 'laptop' }) })
    await core.close()
  })
})
