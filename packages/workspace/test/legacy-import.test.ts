/**
 * A full Pear projects.json, exercising every field Pear writes, imported by a replica
 * and synced to a second machine.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'

const fixture = readFileSync(new URL('./fixtures/pear-full.json', import.meta.url), 'utf8')
const cleanups: Array<() => void> = []
afterEach(() => cleanups.splice(0).forEach((fn) => fn()))

describe('legacy import', () => {
  it('[FILE-2] [PEAR-11] [LOCAL-3] a full Pear file imports every field by Pear\'s rules', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const file = join(dir, 'projects.json')
    writeFileSync(file, fixture)
    const store = new PearStore({ file, logger: recordingLogger() })
    const data = store.loadStore()
    const [app, infra] = data.projects
    expect(data.projects).toHaveLength(2)
    expect(app).toEqual({
      id: 'pear-app',
      name: 'Pear App',
      relayWorkspaceId: 'pear-relay',
      rootPath: '/home/ana/code/pear',
      roots: [
        { id: '/home/ana/code/pear', name: 'pear', path: '/home/ana/code/pear' },
        { id: '/home/ana/code/pear-docs/', name: 'pear-docs', path: '/home/ana/code/pear-docs/' },
        { id: 'nameless', name: 'win', path: 'C:\\Users\\ana\\win' }
      ],
      channels: ['general', 'front-end', 'release-notes'],
      channelPeople: { 'front-end': ['ANA', 'Ben'], 'release-notes': ['ana'] },
      integrations: [
        {
          id: '6f1c2b7e-3a52-4f1e-9d0b-1c2d3e4f5a6b',
          name: 'GitHub',
          type: 'github',
          provider: 'github',
          integrationId: 'gh-123',
          scope: { repos: ['example/pear'] },
          mountPaths: ['/mnt/gh', '/mnt/gh'],
          connectedAt: '2026-10-01T09:00:00.000Z',
          notifyAgent: true,
          lastSyncAt: '2026-11-20T10:00:00.000Z',
          lastError: 'rate limited',
          webhookSecretRef: 'vault://gh'
        },
        { id: expect.stringMatching(/^[0-9a-f]{8}-/), name: 'Notes', type: 'custom' }
      ],
      cloudAgentWorkspaceMode: 'git-overlay',
      proactiveAgents: JSON.parse(fixture).projects[0].proactiveAgents,
      cloudAgent: JSON.parse(fixture).projects[0].cloudAgent,
      teamNote: 'an unknown key that must survive'
    })
    expect(infra).toEqual({
      id: 'infra',
      name: 'Infra',
      relayWorkspaceId: 'infra',
      rootPath: '/home/ana/ops/infra',
      roots: [{ id: '/home/ana/ops/infra', name: 'infra', path: '/home/ana/ops/infra' }],
      channels: ['general'],
      channelPeople: {},
      integrations: []
    })
    expect(data.activeProjectId).toBe('pear-app')
    // API-10: returned as the file holds it, as Pear's loadStore returns it.
    expect(data.relayWorkspace).toEqual(JSON.parse(fixture).relayWorkspace)
    expect(data.windowState).toEqual({ width: 1200 })
    expect(store.problems.map((problem) => problem.kind)).toEqual(['invalid-entries'])
    expect(store.problems[0]!.message).toMatch(/2 project entries/)

    // The second machine gets everything shared and nothing local.
    const remote = new PearStore({ doc: new Y.Doc({ guid: store.workspaceId }), logger: recordingLogger() })
    Y.applyUpdateV2(remote.doc, Y.encodeStateAsUpdateV2(store.doc))
    const remoteApp = remote.loadStore().projects[0]!
    const { cloudAgent: _local, ...shared } = app!
    expect(remoteApp).toEqual(shared)
    expect(remote.loadStore()).toMatchObject({ activeProjectId: null })
    expect(remote.loadStore().relayWorkspace).toBeUndefined()

    // Reopening gives the same view, integration ids included.
    await store.close()
    const reopened = new PearStore({ file, logger: recordingLogger() })
    expect(reopened.loadStore()).toEqual(data)
    // Nothing changed, so nothing rewrote the file (FILE-14): it still holds the rejected
    // entries, and says so again, pointing at the copy made the first time.
    expect(reopened.problems).toEqual([expect.objectContaining({ kind: 'invalid-entries', preservedAt: store.problems[0]!.preservedAt })])
    await reopened.close()
  })
})
