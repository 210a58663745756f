import { describe, expect, it } from 'vitest'
import type { OnConnectPayload } from '@orchard/relay'
import { eventually } from '@orchard/relay/testing'
import { coreWith } from './harness.js'

describe('onConnect', () => {
  it('[HOOK-1] fires once per authenticated connection with workspace, identity and flavor', async () => {
    const seen: OnConnectPayload[] = []
    const { core, workspaceId, connect } = await coreWith({ onConnect: (payload) => seen.push(payload) })
    const client = connect('laptop')
    await client.whenSynced()
    await eventually(() => seen.length === 1, { what: 'onConnect' })
    expect(seen[0]).toEqual({ workspaceId, flavor: 'orchard', identity: expect.objectContaining({ name: 'Owner', role: 'owner', instanceId: 'laptop', label: 'label-laptop' }) })
    client.destroy()
    await core.close()
  })
})
