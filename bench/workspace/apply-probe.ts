import * as Y from 'yjs'
import { WorkspaceModel } from '../../packages/workspace/src/WorkspaceModel.js'
const n = 10000
const doc = new Y.Doc()
const m = new WorkspaceModel(doc)
m.transact(() => {
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID()
    m.addProject({ id, name: `Project ${i}`, relayWorkspaceId: id, rootPath: `/p/${i}`, roots: [{ id: crypto.randomUUID(), name: `p${i}`, path: `/p/${i}` }], channels: ['general', 'frontend'], channelPeople: { frontend: ['ana'] }, integrations: [{ id: crypto.randomUUID(), name: 'GitHub', type: 'github' }] })
  }
})
const v1 = Y.encodeStateAsUpdate(doc), v2 = Y.encodeStateAsUpdateV2(doc)
for (let r = 0; r < 3; r++) {
  let t = performance.now(); Y.applyUpdate(new Y.Doc(), v1); const a1 = performance.now() - t
  t = performance.now(); Y.applyUpdateV2(new Y.Doc(), v2); const a2 = performance.now() - t
  console.log({ v1: v1.length, v2: v2.length, a1, a2 })
}
// flat: one Y.Map per project with JSON values only
const flat = new Y.Doc(); const pm = flat.getMap('p')
flat.transact(() => { for (let i = 0; i < n; i++) { const mm = new Y.Map(); mm.set('name', 'P' + i); mm.set('rootPath', '/p/' + i); mm.set('roots', [{ id: 'x', name: 'p', path: '/p' }]); mm.set('channels', ['general', 'frontend']); pm.set(crypto.randomUUID(), mm) } })
const fu = Y.encodeStateAsUpdateV2(flat)
let t = performance.now(); Y.applyUpdateV2(new Y.Doc(), fu); console.log('flat-ish', fu.length, performance.now() - t)
