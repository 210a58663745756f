/**
 * Where an Orchard save and load spend their time, step by step, on the store the bench
 * just used: the pieces PearStore's render() and its open path are made of, timed on
 * their own with the same library calls. Also the update's size in each encoding, so
 * the file-format choice (Yjs V2, deflated, base64) stays visible.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as Y from 'yjs'
import { WorkspaceModel, viewHash, type PearStore } from '../../packages/workspace/src/index.js'
import { writeAtomic } from '../../packages/workspace/src/file-io.js'
import { decodeUpdate, encodeUpdate } from '../../packages/workspace/src/snapshot-format.js'
import { measure, type RepPlan } from './measure.js'

export interface Step {
  name: string
  value: number
  unit: 'ms' | 'B'
}

export async function orchardBreakdown(store: PearStore, dir: string, plan: RepPlan): Promise<Step[]> {
  const file = store.file as string
  await store.flush()
  const text = readFileSync(file, 'utf8')
  const parsed = JSON.parse(text) as { projects: unknown[]; orchard: { update: string; encoding: 'yjs-v2' | 'yjs-v2+deflate' } }
  const projects = store.loadStore().projects
  const v2 = Y.encodeStateAsUpdateV2(store.doc)
  const v1 = Y.encodeStateAsUpdate(store.doc)
  const steps: Step[] = []
  const time = async (name: string, body: () => unknown): Promise<void> => {
    const timing = await measure(plan, async () => {
      const result = body()
      if (result instanceof Promise) await result
    })
    steps.push({ name, value: timing.median, unit: 'ms' })
  }

  await time('save: clone every project for the view (structuredClone)', () => projects.map((project) => structuredClone(project)))
  await time('save: viewHash (JSON.stringify + sha256 of projects)', () => viewHash(projects))
  await time('save: Y.encodeStateAsUpdateV2', () => Y.encodeStateAsUpdateV2(store.doc))
  await time('save: deflateRaw (level 1) + base64', () => encodeUpdate(v2))
  await time('save: JSON.stringify(file, null, 2)', () => JSON.stringify(parsed, null, 2))
  await time('save: re-read the file (merge check)', () => readFileSync(file, 'utf8'))
  await time('save: writeAtomic (write, fsync, rename, fsync dir)', () => writeAtomic(join(dir, 'breakdown.json'), text))
  await time('load: JSON.parse', () => JSON.parse(text))
  await time('load: base64 + inflate', () => decodeUpdate(parsed.orchard))
  await time('load: Y.applyUpdateV2 into a new doc', () => Y.applyUpdateV2(new Y.Doc(), v2))
  await time('load: (V1 for comparison) Y.applyUpdate', () => Y.applyUpdate(new Y.Doc(), v1))
  await time('load: viewHash of the plain part', () => viewHash(parsed.projects))
  const loaded = new Y.Doc()
  Y.applyUpdateV2(loaded, v2)
  await time('load: WorkspaceModel.listProjects (read every project)', () => {
    const model = new WorkspaceModel(loaded)
    model.listProjects()
    model.destroy()
  })
  steps.push({ name: 'size: Yjs V1 update', value: v1.length, unit: 'B' })
  steps.push({ name: 'size: Yjs V2 update', value: v2.length, unit: 'B' })
  steps.push({ name: 'size: V2 deflated + base64 (as stored)', value: parsed.orchard.update.length, unit: 'B' })
  steps.push({ name: 'size: whole Orchard file', value: Buffer.byteLength(text), unit: 'B' })
  return steps
}
