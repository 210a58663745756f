/**
 * What a user sees when the projects.json a store opens has something wrong with it: which
 * copy is kept aside under which name, what the report says, and what loads. Each test opens
 * a real file in a temp directory.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore, type StoreProblem } from '@orchard/workspace'
import { recordingLogger } from '@orchard/workspace/testing'
import { storeFiles } from './harness/store-files.js'
import { oldPearSave } from './harness/old-pear.js'

const sample = readFileSync(new URL('./fixtures/pear-projects.sample.json', import.meta.url), 'utf8')
const { setup, open } = storeFiles('orchard-psc-problems-')

function asides(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('projects.json.')).sort()
}

/** A file as Orchard writes it, holding the sample's projects (and `edit`'s change). */
async function orchardFile(edit: (store: PearStore) => void = (store) => store.addProjectChannel('infra', 'ops')): Promise<{ file: string; dir: string; text: string; workspaceId: string }> {
  const { file, dir } = setup(sample)
  const { store } = open(file)
  edit(store)
  await store.close()
  return { file, dir, text: readFileSync(file, 'utf8'), workspaceId: store.workspaceId }
}

describe('a file with mistyped fields', () => {
  it('[FILE-8] is copied aside as projects.json.invalid-<time>, and one report lists every problem, each on its own', () => {
    const bad = JSON.parse(sample)
    bad.activeProjectId = 5
    bad.orchard = 'not an object'
    const { file, dir } = setup(JSON.stringify(bad, null, 2))
    const { store } = open(file)
    expect(store.problems).toHaveLength(1)
    const [problem] = store.problems as [StoreProblem]
    expect(problem.kind).toBe('invalid-entries')
    expect(problem.message).toBe('"activeProjectId" is a number; reading it as null; "orchard" is a string, not an object; ignoring it')
    expect(basename(problem.preservedAt!)).toMatch(/^projects\.json\.invalid-\d{4}-/)
    expect(asides(dir)).toEqual([basename(problem.preservedAt!)])
    // The rest loads.
    expect(store.loadStore().projects.map((project) => project.id)).toEqual(['pear-app', 'infra'])
  })
})

describe('an unreadable file', () => {
  it('[FILE-7] with no replica in it: copied aside as projects.json.corrupt-<time>; the report says what was wrong and that the original is kept, and claims no recovery', () => {
    const { file, dir } = setup('{"projects": [ {"id": "half')
    const { store } = open(file)
    const [problem] = store.problems as [StoreProblem]
    expect(problem.kind).toBe('unreadable-file')
    expect(problem.message).toMatch(/^it is not valid JSON \(.+\)\. Pear starts from what could be recovered and the original is kept$/)
    expect(basename(problem.preservedAt!)).toMatch(/^projects\.json\.corrupt-\d{4}-/)
    expect(asides(dir)).toEqual([basename(problem.preservedAt!)])
  })

  it('[FILE-7] with a torn replica: the report says the replica was recovered, and the copy is projects.json.corrupt-<time>', async () => {
    const { file, text, workspaceId } = await orchardFile()
    writeFileSync(file, text.slice(0, text.indexOf('"viewHash"')))
    const { store } = open(file)
    const [problem] = store.problems as [StoreProblem]
    expect(problem.message).toMatch(/^.+\. Recovered the workspace replica it held; Pear starts from what could be recovered and the original is kept$/)
    expect(basename(problem.preservedAt!)).toMatch(/^projects\.json\.corrupt-/)
    expect(store.workspaceId).toBe(workspaceId)
    expect(store.loadStore().projects.map((project) => project.channels)).toEqual([
      ['general', 'frontend', 'release-notes'],
      ['general', 'ops']
    ])
  })

  it('[FILE-7] with a torn replica whose workspace id is lost: the store takes the id it was given, or a new one, never an empty id', async () => {
    const { file, text, workspaceId } = await orchardFile()
    const torn = text.slice(0, text.indexOf('"viewHash"')).replace(`"workspaceId": "${workspaceId}"`, '"lost": true')
    expect(torn).not.toContain(workspaceId)
    writeFileSync(file, torn)
    const given = open(file, { workspaceId: 'ws-given' }).store
    expect(given.workspaceId).toBe('ws-given')
    expect(given.loadStore().projects.map((project) => project.channels)).toEqual([
      ['general', 'frontend', 'release-notes'],
      ['general', 'ops']
    ])
    await given.close()
    writeFileSync(file, torn)
    const fresh = open(file).store
    expect(fresh.workspaceId).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('[FILE-7] whose replica does not decode: the plain projects load, the report says the replica could not be decoded, and the file is kept aside before a save replaces it (FILE-8)', async () => {
    const { file, dir, text } = await orchardFile()
    const broken = JSON.parse(text)
    broken.orchard.update = 'AAAA'
    const brokenText = JSON.stringify(broken, null, 2)
    writeFileSync(file, brokenText)
    const { store } = open(file)
    const [problem] = store.problems as [StoreProblem]
    expect(problem.kind).toBe('unreadable-file')
    expect(problem.message).toMatch(/^its workspace replica could not be decoded \(.+\); importing its plain projects instead$/)
    expect(store.loadStore().projects.map((project) => [project.id, project.channels])).toEqual([
      ['pear-app', ['general', 'frontend', 'release-notes']],
      ['infra', ['general', 'ops']]
    ])
    expect(basename(problem.preservedAt!)).toMatch(/^projects\.json\.corrupt-/)
    expect(readFileSync(join(dir, basename(problem.preservedAt!)), 'utf8')).toBe(brokenText)
    store.addProjectChannel('infra', 'after')
    await store.flush()
    expect(asides(dir)).toEqual([basename(problem.preservedAt!)])
  })
})

describe('a file from a newer Orchard', () => {
  it('[DOC-4] a newer file format alone (same schema) opens read-only, and the reason names the file', async () => {
    const { file, text } = await orchardFile()
    const newer = JSON.parse(text)
    newer.orchard.format = 2
    const newerText = JSON.stringify(newer, null, 2)
    writeFileSync(file, newerText)
    const { store } = open(file)
    expect(store.readOnlyReason).toBe(
      `${file} was written by a newer Orchard (file format 2, schema 1); this one understands format 1, schema 1. It is shown read-only and will not be rewritten; update Orchard to edit it`
    )
    expect(store.problems.map((problem) => problem.kind)).toEqual(['newer-schema'])
    expect(() => store.addProjectChannel('infra', 'x')).toThrow(/read-only/)
    store.setActiveProject('infra')
    await store.flush()
    expect(readFileSync(file, 'utf8')).toBe(newerText)
  })
})

describe('a file of another workspace, opened with a doc', () => {
  it('[FILE-9] its projects\' machine-local root paths are not applied to this workspace\'s projects of the same ids', async () => {
    // Two workspaces whose project and root ids happen to match (a seeded id generator).
    const ids = () => {
      let n = 0
      return () => `id-${++n}`
    }
    const { file, dir } = setup()
    const other = open(file, { workspaceId: 'ws-other', newId: ids() }).store
    const made = other.addProject('Same Id', '/src/same')
    other.setLocalRootPath(made.id, made.roots[0]!.id, '/elsewhere/on/their/machine')
    other.setActiveProject(made.id)
    await other.close()

    const doc = new Y.Doc({ guid: 'ws-mine' })
    const mine = new PearStore({ doc, logger: recordingLogger(), newId: ids() })
    expect(mine.addProject('Same Id', '/src/same').id).toBe(made.id)
    await mine.close()

    const { store } = open(file, { doc })
    expect(store.problems.map((problem) => problem.kind)).toEqual(['workspace-mismatch'])
    const view = store.loadStore()
    expect(view.projects.map((project) => [project.id, project.rootPath, project.roots[0]!.path])).toEqual([[made.id, '/src/same', '/src/same']])
    // Its local fields still carry over.
    expect(view.activeProjectId).toBe(made.id)
    expect(asides(dir).some((name) => name.startsWith('projects.json.workspace-ws-other-'))).toBe(true)
  })
})

describe('joining with a legacy file (importLegacyProjects: false)', () => {
  it('[FILE-10] a legacy file with no projects is not copied aside and nothing is said about projects', () => {
    const { file, dir } = setup(oldPearSave({ projects: [], activeProjectId: null, theme: 'dark' }))
    const doc = new Y.Doc({ guid: 'joined-workspace' })
    const { store, logger } = open(file, { doc, importLegacyProjects: false })
    expect(asides(dir)).toEqual([])
    expect(logger.lines).toEqual([])
    expect(store.getLocalValue('theme')).toBe('dark')
  })
})
