/**
 * This machine's own state beside the shared projects (LOCAL-1, LOCAL-2, API-11, API-12,
 * PEAR-13): what a removed project leaves behind, what survives another process's save, and
 * what the user is told when a call is given something Pear would choke on.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupAll, openStore, sampleText, tempProjectsFile } from './harness/store-files.js'

afterEach(cleanupAll)

const localSection = (file: string) => JSON.parse(readFileSync(file, 'utf8')).orchard as { localRoots: Record<string, unknown>; localFields: Record<string, unknown> }

describe('LOCAL-2: a root moved on this machine', () => {
  it('[LOCAL-2] removing a project takes its local root path and cloud agent out of projects.json', async () => {
    const file = tempProjectsFile(sampleText)
    const { store } = openStore(file)
    store.setLocalRootPath('infra', '/home/ana/ops/infra', '/mnt/ana/infra')
    const data = store.loadStore()
    data.projects[1]!.cloudAgent = { id: 'ca', sandboxId: 'sb', relayfileMountPath: '/mnt/agent', attachedAt: 'now', autoPullAfterRun: true }
    store.saveStore(data)
    await store.flush()
    expect(localSection(file)).toMatchObject({ localRoots: { infra: { '/home/ana/ops/infra': '/mnt/ana/infra' } }, localFields: { infra: { cloudAgent: { id: 'ca' } } } })

    store.removeProject('infra')
    await store.flush()
    expect(localSection(file)).toMatchObject({ localRoots: {}, localFields: {} })
  })

  it('[LOCAL-2] [FILE-4] a root moved here survives another process saving the file before this store does', async () => {
    const file = tempProjectsFile(sampleText)
    // This store's save waits for flush(), so the other process's save lands first.
    const here = openStore(file, { saveDelayMs: 60_000 }).store
    const other = openStore(file).store
    here.setLocalRootPath('infra', '/home/ana/ops/infra', '/mnt/ana/infra')
    other.addProjectChannel('pear-app', 'design')
    await other.flush()
    await here.flush()
    expect(localSection(file).localRoots).toEqual({ infra: { '/home/ana/ops/infra': '/mnt/ana/infra' } })
    expect(here.loadStore().projects[1]!.roots[0]!.path).toBe('/mnt/ana/infra')
    expect(here.loadStore().projects[0]!.channels).toContain('design')
  })

  it('[LOCAL-2] [MERGE-4] a project removed here keeps its local paths out of the file when another process saved them meanwhile', async () => {
    const file = tempProjectsFile(sampleText)
    const first = openStore(file).store
    first.setLocalRootPath('infra', '/home/ana/ops/infra', '/mnt/ana/infra')
    await first.close()
    const here = openStore(file, { saveDelayMs: 60_000 }).store
    const other = openStore(file).store
    here.removeProject('infra')
    other.addProjectChannel('pear-app', 'design')
    await other.flush()
    expect(localSection(file).localRoots).toEqual({ infra: { '/home/ana/ops/infra': '/mnt/ana/infra' } })
    await here.flush()
    expect(localSection(file).localRoots).toEqual({})
    expect(here.loadStore().projects.map((project) => project.id)).toEqual(['pear-app'])
  })
})

describe('LOCAL-1: machine-local top-level values', () => {
  it('[LOCAL-1] setLocalValue(key, undefined) removes the key: loadStore no longer has it at all', async () => {
    const file = tempProjectsFile(sampleText)
    const { store } = openStore(file)
    store.setLocalValue('theme', { dark: true })
    expect(store.loadStore().theme).toEqual({ dark: true })
    store.setLocalValue('theme', undefined)
    expect(Object.keys(store.loadStore())).not.toContain('theme')
    expect(store.getLocalValue('theme')).toBeUndefined()
    await store.flush()
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).not.toContain('theme')
  })
})

describe('API-11, API-12: the active project', () => {
  it('[API-11] [API-12] setActiveProject(undefined) clears the active project, as null does (Pear\'s file reads undefined as null)', () => {
    const { store, errors } = openStore(tempProjectsFile(sampleText))
    expect(store.loadStore().activeProjectId).toBe('pear-app')
    store.setActiveProject(undefined as unknown as null)
    expect(store.loadStore().activeProjectId).toBeNull()
    expect(errors).toEqual([])
  })

  it('[API-12] setActiveProject of a number is reported with what it was given and what was kept; the active project is unchanged', () => {
    const { store, errors } = openStore(tempProjectsFile(sampleText))
    store.setActiveProject(5 as unknown as string)
    expect(errors.map((problem) => [problem.kind, problem.message])).toEqual([
      ['bad-argument', 'setActiveProject was given a number, not a project id or null; the active project was left as it is']
    ])
    expect(store.loadStore().activeProjectId).toBe('pear-app')
  })
})

describe('PEAR-13: a project Pear would not load', () => {
  it('[PEAR-13] addProject with an empty name is not added, and the log says it was not added and why', () => {
    const { store, logger } = openStore(tempProjectsFile(sampleText))
    store.addProject('', '/src/nameless')
    expect(store.loadStore().projects.map((project) => project.id)).toEqual(['pear-app', 'infra'])
    expect(logger.lines).toEqual([expect.stringMatching(/^warn \[orchard\] addProject: not adding a project Pear would not load \(.*name.*\)$/)])
  })
})
