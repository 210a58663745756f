import { afterEach, describe, expect, it } from 'vitest'
import { WorkspaceSession } from '@orchard/client'
import { eventually, startTestRelay, type TestRelay } from '@orchard/relay/testing'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

describe('smoke', () => {
  it('[SESSION-1] an owner and an invited editor see the same projects', async () => {
    const relay: TestRelay = await startTestRelay()
    cleanups.push(relay.close)
    const owner = await WorkspaceSession.open({ credential: relay.ownerCredential, relayUrl: relay.url, label: 'owner' })
    cleanups.push(() => owner.close())
    owner.store.addProject('Shared', '/src/shared')
    const invite = await owner.createInvite('editor')
    const editor = await WorkspaceSession.join(invite, { name: 'Ben', label: 'ben' })
    cleanups.push(() => editor.close())
    await eventually(() => editor.store.loadStore().projects.length === 1, { what: 'editor sees the project' })
    editor.store.addProjectChannel(editor.store.loadStore().projects[0]!.id, 'from-ben')
    await eventually(() => owner.store.loadStore().projects[0]?.channels.includes('from-ben'), { what: 'owner sees the channel' })
    expect(editor.role).toBe('editor')
  })
})
