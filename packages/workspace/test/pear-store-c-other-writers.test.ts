/**
 * projects.json written by someone else while a store has it open (FILE-12: merged at the
 * next call): an older Pear or an editor writing the plain shape, another workspace's
 * Orchard, a newer Orchard. And hand edits that remove things, at open. Each "other
 * writer" is a plain write of the file, as that process would leave it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore, viewHash, type PearStoreOptions, type StoreProblem } from '@orchard/workspace'
import { storeFiles } from './harness/store-files.js'
import { oldPearCall, oldPearSave } from './harness/old-pear.js'

const sample = readFileSync(new URL('./fixtures/pear-projects.sample.json', import.meta.url), 'utf8')
const files = storeFiles('orchard-psc-writers-')
const { setup } = files
/** A store that saves only when flushed, so a test decides what is on disk when another writer comes. */
const open = (file: string, extra: Partial<PearStoreOptions> = {}) => files.open(file, { saveDelayMs: 60_000, ...extra })

function asides(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('projects.json.')).sort()
}

const names = (store: PearStore) => store.loadStore().projects.map((project) => project.name)

describe('a plain write (no orchard section) over the file this store wrote', () => {
  it('[FILE-3] a project this store added and saved, then removed by an older Pear\'s write, is removed here', async () => {
    const { file } = setup()
    const { store, errors } = open(file)
    store.addProject('Keep', '/src/keep')
    store.addProject('Drop', '/src/drop')
    await store.flush()
    // An older Pear (or an editor) loads the plain part, drops a project and writes the plain shape.
    writeFileSync(file, oldPearCall(readFileSync(file, 'utf8'), (data) => {
      data.projects = data.projects.filter((project) => project.name !== 'Drop')
      delete data.orchard
    }))
    expect(names(store)).toEqual(['Keep'])
    expect(errors).toEqual([])
  })

  it('[FILE-10] [FILE-3] a member who joined with importLegacyProjects: false still takes an older Pear\'s edits of the file it wrote', async () => {
    const { file, dir } = setup(oldPearSave({ projects: [], activeProjectId: null }))
    const doc = new Y.Doc({ guid: 'joined-workspace' })
    const { store } = open(file, { doc, importLegacyProjects: false })
    const made = store.addProject('Shared', '/src/shared')
    await store.flush()
    writeFileSync(file, oldPearCall(readFileSync(file, 'utf8'), (data) => {
      data.projects[0]!.name = 'Renamed by old Pear'
      delete data.orchard
    }))
    expect(store.loadStore().projects.map((project) => [project.id, project.name])).toEqual([[made.id, 'Renamed by old Pear']])
    expect(asides(dir)).toEqual([])
  })
})

describe('a write whose replica does not decode', () => {
  it('[FILE-3] [FILE-8] its plain part is read as edits of what this store last wrote (a project it dropped is removed here), and the file is kept aside first', async () => {
    const { file, dir } = setup()
    const { store, errors } = open(file)
    store.addProject('Keep', '/src/keep')
    store.addProject('Drop', '/src/drop')
    await store.flush()
    const broken = JSON.parse(readFileSync(file, 'utf8'))
    broken.projects = broken.projects.filter((project: { name: string }) => project.name !== 'Drop')
    broken.orchard.update = 'AAAA'
    const brokenText = JSON.stringify(broken, null, 2)
    writeFileSync(file, brokenText)
    expect(names(store)).toEqual(['Keep'])
    expect(errors.map((problem) => problem.kind)).toEqual(['unreadable-file'])
    expect(readFileSync(join(dir, basename(errors[0]!.preservedAt!)), 'utf8')).toBe(brokenText)
  })
})

describe('hand edits that remove, at open', () => {
  it('[FILE-3] a project deleted by hand from the plain part of an Orchard file is removed; the others stay as the replica has them', async () => {
    const { file } = setup(sample)
    const first = open(file).store
    first.addProjectChannel('infra', 'ops')
    await first.close()
    const edited = JSON.parse(readFileSync(file, 'utf8'))
    edited.projects = edited.projects.filter((project: { id: string }) => project.id !== 'pear-app')
    writeFileSync(file, JSON.stringify(edited, null, 2))
    const { store } = open(file)
    expect(store.loadStore().projects.map((project) => [project.id, project.channels])).toEqual([['infra', ['general', 'ops']]])
  })
})

describe('duplicates (PEAR-14) while another process writes', () => {
  it('[PEAR-14] an edit of a duplicate entry not yet saved survives a merge of another process\'s write, and that write\'s own edit lands too', () => {
    const text = JSON.parse(sample)
    text.projects.splice(1, 0, { ...text.projects[0], name: 'Pear App (copy)' })
    const { file } = setup(JSON.stringify(text, null, 2))
    const { store, errors } = open(file)
    expect(names(store)).toEqual(['Pear App', 'Pear App (copy)', 'Infra'])
    expect(errors.map((problem) => problem.kind)).toEqual([])
    const data = store.loadStore()
    data.projects[1]!.name = 'Copy renamed here'
    store.saveStore(data)
    // Before this store saves, an older Pear renames another project in the file.
    writeFileSync(file, oldPearCall(readFileSync(file, 'utf8'), (pear) => {
      pear.projects[2]!.name = 'Infra renamed by the older Pear'
    }))
    expect(names(store)).toEqual(['Pear App', 'Copy renamed here', 'Infra renamed by the older Pear'])
  })
})

describe('another workspace\'s Orchard writes the file', () => {
  it('[FILE-9] nothing of it is merged: this store\'s active project and relay record stay, the file is kept aside, and this store saves its own workspace back', async () => {
    const { file, dir } = setup(sample)
    const { store, errors } = open(file)
    store.setActiveProject('infra')
    await store.flush()
    const otherFile = setup().file
    const other = open(otherFile, { workspaceId: 'ws-other' }).store
    other.addProject('Theirs', '/src/theirs')
    other.setActiveProject('elsewhere')
    other.setRelayWorkspace({ id: 'rw_other', createdAt: '2026-01-01T00:00:00.000Z' })
    await other.close()
    writeFileSync(file, readFileSync(otherFile, 'utf8'))

    const view = store.loadStore()
    expect(errors.map((problem) => problem.kind)).toEqual(['workspace-mismatch'])
    expect(view.projects.map((project) => project.id)).toEqual(['pear-app', 'infra'])
    expect(view.activeProjectId).toBe('infra')
    expect(view.relayWorkspace).toMatchObject({ id: 'rw_123' })
    expect(asides(dir).some((name) => name.startsWith('projects.json.workspace-ws-other-'))).toBe(true)
    store.addProjectChannel('infra', 'after')
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).orchard.workspaceId).toBe(store.workspaceId)
  })
})

describe('a newer Orchard writes the file this store has open', () => {
  it('[FILE-18] [FILE-8] this store keeps working, says its changes are not merged, and keeps the newer file aside before its next save replaces it', async () => {
    const { file, dir } = setup(sample)
    const { store, errors } = open(file)
    store.addProjectChannel('infra', 'ops')
    await store.flush()
    const newer = JSON.parse(readFileSync(file, 'utf8'))
    newer.orchard.schemaMajor = 2
    newer.projects[1].name = 'Infra (newer Orchard)'
    newer.orchard.viewHash = viewHash(newer.projects)
    const newerText = JSON.stringify(newer, null, 2)
    writeFileSync(file, newerText)

    expect(names(store)).toEqual(['Pear App', 'Infra'])
    expect(errors).toHaveLength(1)
    const [problem] = errors as [StoreProblem]
    expect(problem.kind).toBe('newer-schema')
    expect(problem.message).toContain(`${file} was written by a newer Orchard (file format 1, schema 2)`)
    expect(problem.message).toContain('not merged')
    expect(basename(problem.preservedAt!)).toMatch(/^projects\.json\.newer-schema-/)
    expect(readFileSync(join(dir, basename(problem.preservedAt!)), 'utf8')).toBe(newerText)
    // Not read-only: this store was opened on a file it understands.
    expect(store.readOnlyReason).toBeNull()
    store.addProjectChannel('infra', 'after')
    await store.flush()
    expect(store.loadStore().projects[1]!.channels).toEqual(['general', 'ops', 'after'])
    expect(asides(dir)).toEqual([basename(problem.preservedAt!)])
  })
})
