/** The demo workspace `orchard relay --demo` creates: a few Pear projects to look at. */
import { WorkspaceModel } from '@orchard/workspace/browser'
import * as Y from 'yjs'

export function demoWorkspaceUpdate(): Uint8Array {
  const doc = new Y.Doc()
  const model = new WorkspaceModel(doc)
  model.transact(() => {
    model.addProject({
      id: 'pear-app',
      name: 'Pear App',
      relayWorkspaceId: 'pear-app',
      rootPath: '/home/ana/code/pear',
      roots: [
        { id: 'pear-root', name: 'pear', path: '/home/ana/code/pear' },
        { id: 'docs-root', name: 'docs', path: '/home/ana/code/pear-docs' }
      ],
      channels: ['general', 'frontend', 'release-notes'],
      channelPeople: { frontend: ['ana', 'ben'] },
      integrations: [{ id: 'gh-pear', name: 'GitHub', type: 'github', repo: 'example/pear' }],
      scalars: { cloudAgentWorkspaceMode: 'git-overlay' }
    })
    model.addProject({
      id: 'infra',
      name: 'Infra',
      relayWorkspaceId: 'infra',
      rootPath: '/home/ana/ops/infra',
      roots: [{ id: 'infra-root', name: 'infra', path: '/home/ana/ops/infra' }],
      channels: ['general', 'incidents'],
      channelPeople: {},
      integrations: [{ id: 'pd-infra', name: 'PagerDuty', type: 'pagerduty' }]
    })
    model.addProject({
      id: 'website',
      name: 'Website',
      relayWorkspaceId: 'website',
      rootPath: '/home/ana/code/site',
      roots: [{ id: 'site-root', name: 'site', path: '/home/ana/code/site' }],
      channels: ['general'],
      channelPeople: {},
      integrations: []
    })
  })
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return update
}
