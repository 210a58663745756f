import * as Y from 'yjs'
import { deflateRawSync } from 'node:zlib'
import { WorkspaceModel } from '../../packages/workspace/src/WorkspaceModel.js'
for (const n of [100, 1000, 10000]) {
  const doc = new Y.Doc()
  const m = new WorkspaceModel(doc)
  const plain: any[] = []
  let t = performance.now()
  m.transact(() => {
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID()
    const p = { id, name: `Project ${i}`, relayWorkspaceId: id, rootPath: `/home/ana/code/project-${i}`,
      roots: [{ id: crypto.randomUUID(), name: `project-${i}`, path: `/home/ana/code/project-${i}` }],
      channels: ['general', 'frontend'], channelPeople: { frontend: ['ana', 'ben'] },
      integrations: [{ id: crypto.randomUUID(), name: 'GitHub', type: 'github' }] }
    plain.push(p)
    m.addProject(p as any)
  }})
  const build = performance.now() - t
  const json = JSON.stringify({ projects: plain, activeProjectId: null }, null, 2)
  t = performance.now()
  const u = Y.encodeStateAsUpdateV2(doc)
  const enc = performance.now() - t
  t = performance.now(); const d = deflateRawSync(u, { level: 1 }); const defl = performance.now() - t
  t = performance.now(); const d6 = deflateRawSync(u); const defl6 = performance.now() - t
  const b64 = Buffer.from(u).toString('base64').length
  t = performance.now(); const d2 = new Y.Doc(); Y.applyUpdateV2(d2, u); const apply = performance.now() - t
  t = performance.now(); const l = new WorkspaceModel(d2).listProjects(); const list = performance.now() - t
  t = performance.now(); const c = l.map(p => structuredClone(p)); const clone = performance.now() - t
  t = performance.now(); JSON.parse(JSON.stringify(l)); const jclone = performance.now() - t
  console.log({ n, json: json.length, v2: u.length, b64, deflate1: d.length, deflate6: d6.length, ratioRaw: ((json.length + b64) / json.length).toFixed(2), ratioDefl: ((json.length + d.length * 4 / 3) / json.length).toFixed(2), build, enc, defl, defl6, apply, list, clone, jclone })
}
