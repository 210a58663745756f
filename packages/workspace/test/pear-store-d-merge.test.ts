/**
 * What a store does with a projects.json another process wrote (FILE-12): another Orchard
 * saving its own local fields, a person or a Pear without Orchard editing the plain part,
 * an editor leaving it unreadable. Two stores on one file stand for two processes; a
 * writeFileSync stands for a hand edit. Written against the survivors of a Stryker run
 * over PearStore.ts lines 783-896 (TESTING.md, session 5).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PearStore, type StoreProblem } from '../src/index.js'
import { viewHash } from '../src/snapshot-format.js'
import { nodeDurableFs, recordingLogger, tempDir, type DurableFs } from '../src/testing/index.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

interface FileJson {
  projects: Array<Record<string, unknown>>
  orchard: { viewHash: string; quarantine: unknown[]; localFields: Record<string, unknown> }
  [key: string]: unknown
}

function folder(): { dir: string; file: string } {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  return { dir, file: join(dir, 'projects.json') }
}

function open(file: string, extra: Partial<ConstructorParameters<typeof PearStore>[0]> = {}) {
  const store = new PearStore({ file, logger: recordingLogger(), saveDelayMs: 5, ...extra })
  const errors: StoreProblem[] = []
  store.on('error', (problem) => errors.push(problem))
  cleanups.push(() => store.close())
  return { store, errors }
}

/**
 * A store whose saves wait until `release()`: its edits stay unsaved (and its own fields
 * "changed since the last save") for as long as the test needs, whatever the machine's load.
 */
function openHeld(file: string) {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const fs: DurableFs = { ...nodeDurableFs, mkdir: async (path) => { await gate; await nodeDurableFs.mkdir(path) } }
  const opened = open(file, { fs })
  cleanups.push(() => release()) // runs before close (cleanups run in reverse)
  return { ...opened, release }
}

function readJson(file: string): FileJson {
  return JSON.parse(readFileSync(file, 'utf8')) as FileJson
}

/** A projects.json Orchard wrote, with one project (id p1, root r1 at /home/ana/app). */
async function orchardFile(file: string): Promise<FileJson> {
  let n = 0
  const { store } = open(file, { newId: () => ['p1', 'r1'][n++] ?? `id-${n}` })
  store.addProject('App', '/home/ana/app')
  await store.flush()
  await store.close()
  return readJson(file)
}

function handEdit(file: string, edit: (json: FileJson) => void): void {
  const json = readJson(file)
  edit(json)
  writeFileSync(file, JSON.stringify(json, null, 2))
}

/** Whether the file was last written by Orchard: its replica describes exactly its plain part. */
function writtenByOrchard(file: string): boolean {
  const json = readJson(file)
  return json.orchard.viewHash === viewHash(json.projects)
}

describe('another process\'s write, merged', () => {
  it('[FILE-14] [FILE-3] a hand edit merged from the file is saved with the replica; one that changes nothing is not written back', async () => {
    const { file } = folder()
    await orchardFile(file)
    const { store } = open(file)
    handEdit(file, (json) => (json.projects[0]!.name = 'Renamed by hand'))
    expect(store.loadStore().projects[0]!.name).toBe('Renamed by hand')
    await store.flush()
    expect(writtenByOrchard(file)).toBe(true)
    expect(readJson(file).projects[0]!.name).toBe('Renamed by hand')

    // Only the keys moved: the projects read the same, so nothing is saved.
    handEdit(file, (json) => {
      const { name, ...rest } = json.projects[0]!
      json.projects[0] = { ...rest, name }
    })
    const moved = readFileSync(file, 'utf8')
    expect(writtenByOrchard(file)).toBe(false)
    expect(store.loadStore().projects[0]!.name).toBe('Renamed by hand')
    await store.flush()
    expect(readFileSync(file, 'utf8')).toBe(moved)
  })

  it('[FILE-14] [LOCAL-3] a cloud agent added to the file by hand is this machine\'s, saved in its local fields though the replica did not change', async () => {
    const { file } = folder()
    await orchardFile(file)
    const { store } = open(file)
    handEdit(file, (json) => (json.projects[0]!.cloudAgent = null))
    expect(store.loadStore().projects[0]!.cloudAgent).toBeNull()
    await store.flush()
    expect(writtenByOrchard(file)).toBe(true)
    expect(readJson(file).orchard.localFields).toEqual({ p1: { cloudAgent: null } })
  })

  it('[FILE-12] [LOCAL-3] a hand edit undone by the next write to the file is undone here too, as a fresh open reads the file', () => {
    const { file } = folder()
    return orchardFile(file).then(() => {
      const original = readFileSync(file, 'utf8')
      const { store, release } = openHeld(file) // this store has not saved in between
      handEdit(file, (json) => (json.projects[0]!.cloudAgent = null))
      expect(store.loadStore().projects[0]!.cloudAgent).toBeNull()
      writeFileSync(file, original)
      expect(store.loadStore().projects[0]).not.toHaveProperty('cloudAgent')
      release()
    })
  })

  it('[FILE-12] [LOCAL-1] [LOCAL-2] another process\'s relay record, top-level keys and root paths are taken when this store has not changed its own', async () => {
    const { file } = folder()
    await orchardFile(file)
    const { store: mine, release } = openHeld(file)
    const { store: theirs } = open(file)
    mine.setActiveProject('p1') // changed here, not saved yet
    theirs.setRelayWorkspaceRecord({ id: 'rw-theirs', createdAt: '2026-01-01T00:00:00.000Z' })
    theirs.setLocalValue('theme', 'dark')
    theirs.setLocalRootPath('p1', 'r1', '/theirs/app')
    await theirs.flush()
    const data = mine.loadStore()
    expect(data).toMatchObject({ activeProjectId: 'p1', relayWorkspace: { id: 'rw-theirs' }, theme: 'dark' })
    expect(data.projects[0]!.rootPath).toBe('/theirs/app')
    release()
  })

  it('[FILE-12] [FILE-4] [LOCAL-1] [LOCAL-2] a relay record, top-level keys and root paths changed here and not yet saved are kept over another process\'s', async () => {
    const { file } = folder()
    await orchardFile(file)
    const { store: mine, release } = openHeld(file)
    const { store: theirs } = open(file)
    mine.setRelayWorkspaceRecord({ id: 'rw-mine', createdAt: '2026-01-01T00:00:00.000Z' })
    mine.setLocalValue('theme', 'light')
    mine.setLocalRootPath('p1', 'r1', '/mine/app')
    theirs.setActiveProject('p1')
    theirs.setRelayWorkspaceRecord({ id: 'rw-theirs', createdAt: '2026-01-01T00:00:00.000Z' })
    theirs.setLocalValue('theme', 'dark')
    theirs.setLocalRootPath('p1', 'r1', '/theirs/app')
    await theirs.flush()
    const data = mine.loadStore()
    expect(data).toMatchObject({ activeProjectId: 'p1', relayWorkspace: { id: 'rw-mine' }, theme: 'light' })
    expect(data.projects[0]!.rootPath).toBe('/mine/app')
    release()
    await mine.flush()
    expect(readJson(file)).toMatchObject({ activeProjectId: 'p1', relayWorkspace: { id: 'rw-mine' }, theme: 'light' })
  })

  it('[API-10] a relay record another process wrote as null reads as null, as it does when the file is opened', async () => {
    const { file } = folder()
    await orchardFile(file)
    const { store } = open(file)
    store.setRelayWorkspaceRecord({ id: 'rw', createdAt: '2026-01-01T00:00:00.000Z' })
    await store.flush()
    handEdit(file, (json) => (json.relayWorkspace = null))
    const merged = store.loadStore()
    const { store: fresh } = open(file)
    expect(fresh.loadStore().relayWorkspace).toBeNull()
    expect(merged.relayWorkspace).toBeNull()
    expect(store.getRelayWorkspaceRecord()).toBeNull()
  })

  it('[PEAR-12] entries another process kept aside are kept here too, each once', async () => {
    const { file } = folder()
    await orchardFile(file)
    const { store } = open(file)
    const x = { id: 'x', name: '' }
    const y = { id: 'y', name: 'no roots' }
    handEdit(file, (json) => (json.orchard.quarantine = [x]))
    store.loadStore()
    handEdit(file, (json) => (json.orchard.quarantine = [x, y]))
    store.loadStore()
    store.addProjectChannel('p1', 'ops') // something to save
    await store.flush()
    expect(readJson(file).orchard.quarantine).toEqual([x, y])
  })
})

describe('entries Pear\'s rules reject', () => {
  it('[PEAR-12] [FILE-8] at open: counted, each reason named, copied aside as "invalid", kept once under orchard.quarantine', async () => {
    const { dir, file } = folder()
    const json = await orchardFile(file)
    const kept = { id: 'q', name: 'kept aside already' }
    json.orchard.quarantine = [kept]
    json.projects.push(kept)
    writeFileSync(file, JSON.stringify(json, null, 2))
    const { store } = open(file)
    const errors = store.problems // found while opening: before anyone could listen
    expect(errors).toEqual([
      {
        kind: 'invalid-entries',
        file,
        message: expect.stringMatching(/^1 project entry Pear's rules reject \([^;]+\); kept under orchard\.quarantine, not shown$/),
        preservedAt: expect.stringMatching(/projects\.json\.invalid-/)
      }
    ])
    expect(readdirSync(dir).filter((name) => name.startsWith('projects.json.'))).toEqual([errors[0]!.preservedAt!.slice(dir.length + 1)])
    store.addProjectChannel('p1', 'ops')
    await store.flush()
    expect(readJson(file).orchard.quarantine).toEqual([kept])
  })

  it('[PEAR-12] merged from another process\'s write: reported with each reason, no copy made (nothing is lost: they are kept in the next save)', async () => {
    const { dir, file } = folder()
    await orchardFile(file)
    const { store, errors } = open(file)
    const nameless = { id: 'n', roots: [{ path: '/n' }] }
    const rootless = { id: 'r', name: 'Rootless' }
    handEdit(file, (json) => json.projects.push(nameless, rootless))
    store.loadStore()
    expect(errors).toHaveLength(1)
    const [problem] = errors
    expect(problem).toEqual({ kind: 'invalid-entries', file, message: expect.stringMatching(/^2 project entries Pear's rules reject \(.+; .+\); kept under orchard\.quarantine, not shown$/) })
    const reasons = problem!.message.slice(problem!.message.indexOf('(') + 1, problem!.message.lastIndexOf(')')).split('; ')
    expect(reasons).toHaveLength(2)
    for (const reason of reasons) expect(reason.length).toBeGreaterThan(0)
    expect(readdirSync(dir).filter((name) => name.startsWith('projects.json.'))).toEqual([])
    await store.flush()
    expect(readJson(file).orchard.quarantine).toEqual([nameless, rootless])
  })

  it('[PEAR-12] merged after an open that made a copy: the merge\'s report does not point at the open\'s copy', async () => {
    const { file } = folder()
    const json = await orchardFile(file)
    json.projects.push({ id: 'bad-at-open', name: '' })
    writeFileSync(file, JSON.stringify(json, null, 2))
    const { store } = open(file)
    const errors = store.problems
    expect(errors[0]!.preservedAt).toMatch(/projects\.json\.invalid-/)
    handEdit(file, (edited) => edited.projects.push({ id: 'bad-later', name: 'Rootless' }))
    store.loadStore()
    expect(errors).toHaveLength(2)
    expect(errors[1]).not.toHaveProperty('preservedAt')
  })
})

describe('an unreadable write by another process', () => {
  it('[FILE-7] [FILE-8] is copied aside as "corrupt", reported, and this replica is what the store still shows', () => {
    const { file } = folder()
    return orchardFile(file).then(() => {
      const { store, errors } = open(file)
      writeFileSync(file, '{"projects": [')
      expect(store.loadStore().projects.map((project) => project.name)).toEqual(['App'])
      expect(errors).toEqual([
        {
          kind: 'unreadable-file',
          file,
          message: expect.stringMatching(/.+; another process wrote it\. The copy is kept and this replica is saved over it$/),
          preservedAt: expect.stringMatching(/projects\.json\.corrupt-/)
        }
      ])
      expect(readFileSync(errors[0]!.preservedAt!, 'utf8')).toBe('{"projects": [')
    })
  })

  it('[FILE-7] [FILE-8] is replaced by this replica with no change of this store\'s own, as the report says: Pear can read the file again', async () => {
    const { file } = folder()
    await orchardFile(file)
    const { store } = open(file)
    writeFileSync(file, '{"projects": [')
    expect(store.loadStore().projects.map((project) => project.name)).toEqual(['App'])
    await store.flush()
    expect((JSON.parse(readFileSync(file, 'utf8')) as FileJson).projects.map((project) => project.name)).toEqual(['App'])
  })
})
