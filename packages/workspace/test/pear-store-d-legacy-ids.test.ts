/**
 * FILE-14 as two machines see it: the workspace id a legacy projects.json gets, and the
 * Yjs client its plain part is imported as, both come from the file's text. Different
 * texts must give different ones, or two machines' imports clash when they sync. Written
 * against the survivors of a Stryker run over PearStore.ts lines 783-896 (TESTING.md,
 * session 5).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore } from '../src/PearStore.js'
import { recordingLogger, tempDir } from '../src/testing/index.js'
import { pearProject } from './harness/fixtures.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function fileWith(text: string): string {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const file = join(dir, 'projects.json')
  writeFileSync(file, text)
  return file
}

function open(file: string): PearStore {
  const store = new PearStore({ file, logger: recordingLogger(), saveDelayMs: 5 })
  cleanups.push(() => store.close())
  return store
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('legacy files on two machines', () => {
  it('[FILE-14] a legacy file\'s workspace id is a UUID taken from its text: the same text gives the same id, another text another id', () => {
    const text = JSON.stringify({ projects: [pearProject], activeProjectId: null }, null, 2)
    const other = JSON.stringify({ projects: [{ ...pearProject, name: 'Other' }], activeProjectId: null }, null, 2)
    const a = open(fileWith(text))
    const b = open(fileWith(text))
    const c = open(fileWith(other))
    expect(a.workspaceId).toMatch(UUID_V4)
    expect(c.workspaceId).toMatch(UUID_V4)
    expect(b.workspaceId).toBe(a.workspaceId)
    expect(c.workspaceId).not.toBe(a.workspaceId)
  })

  it('[FILE-14] [FILE-3] two machines that each hand-edit their copy of one workspace\'s file keep both edits when they sync', async () => {
    // One workspace's projects.json, as Orchard wrote it, copied to two machines. (Made
    // here rather than imported from a legacy file: an import's client is in the replica
    // already, and Yjs gives a client that finds its id taken a random one.)
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const first = open(join(dir, 'projects.json'))
    first.addProject('App', '/home/ana/app')
    await first.flush()
    const written = JSON.parse(readFileSync(first.file!, 'utf8')) as { projects: Array<Record<string, unknown>> }
    // Each machine's copy is edited by hand (or by a Pear without Orchard): its plain part only.
    const renamed = structuredClone(written)
    renamed.projects[0]!.name = 'Renamed on A'
    const withChannel = structuredClone(written)
    withChannel.projects[0]!.channels = [...(withChannel.projects[0]!.channels as string[]), 'ops']
    const a = open(fileWith(JSON.stringify(renamed, null, 2)))
    const b = open(fileWith(JSON.stringify(withChannel, null, 2)))
    expect(b.workspaceId).toBe(a.workspaceId)
    Y.applyUpdateV2(b.doc, Y.encodeStateAsUpdateV2(a.doc), 'relay')
    Y.applyUpdateV2(a.doc, Y.encodeStateAsUpdateV2(b.doc), 'relay')
    for (const store of [a, b]) {
      expect(store.loadStore().projects.map(({ name, channels }) => ({ name, channels }))).toEqual([
        { name: 'Renamed on A', channels: ['general', 'ops'] }
      ])
    }
  })
})
