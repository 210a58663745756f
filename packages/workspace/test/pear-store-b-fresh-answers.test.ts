/**
 * Every store function answers with the file as it is now (FILE-12): a project another
 * process just wrote is already there for the call that names it, and the `change` event for
 * it has fired by the time the call returns. And a file from a newer Orchard refuses every
 * write (DOC-4), whichever function is called.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { ReadOnlyWorkspaceError, type PearStore, type StoreData } from '@orchard/workspace'
import { cleanupAll, openStore, projectEntry, sampleText, tempProjectsFile } from './harness/store-files.js'

afterEach(cleanupAll)

/** Project `late`, as another Orchard process saves it: two roots, channel `ops` with people, integration `late-ci`. */
const late = projectEntry('late', {
  name: 'Late',
  roots: [
    { id: 'late-r1', name: 'late', path: '/src/late' },
    { id: 'late-docs', name: 'docs', path: '/src/late-docs' }
  ],
  channels: ['general', 'ops'],
  channelPeople: { ops: ['ana'] },
  integrations: [{ id: 'late-ci', name: 'CI', type: 'custom' }]
})

/** Store `here` has opened the sample file; another process has since saved project `late` into it. */
async function lateWriteByAnotherProcess() {
  const file = tempProjectsFile(sampleText)
  const here = openStore(file)
  const other = openStore(file).store
  const data = other.loadStore()
  data.projects.push(structuredClone(late) as StoreData['projects'][number])
  other.saveStore(data)
  await other.flush()
  expect(here.changes).toEqual([])
  return here
}

const lateView = (store: PearStore) => store.loadStore().projects.find((project) => project.id === 'late')

describe('FILE-12: each call answers after merging what another process wrote', () => {
  /** What the call does with `late`, and what the user then sees. */
  const calls: Array<[string, (store: PearStore) => void, (store: PearStore) => void]> = [
    [
      'addProject adds after it: the new project comes after `late`',
      (store) => store.addProject('New', '/src/new'),
      (store) => expect(store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra', 'Late', 'New'])
    ],
    ['removeProject removes `late`', (store) => store.removeProject('late'), (store) => expect(lateView(store)).toBeUndefined()],
    [
      'setActiveProject makes `late` active',
      (store) => store.setActiveProject('late'),
      (store) => expect(store.loadStore().activeProjectId).toBe('late')
    ],
    [
      'addProjectChannel adds a channel to `late`',
      (store) => store.addProjectChannel('late', 'Design'),
      (store) => expect(lateView(store)?.channels).toEqual(['general', 'ops', 'design'])
    ],
    [
      'removeProjectChannel removes `ops` from `late`, with its people',
      (store) => store.removeProjectChannel('late', 'ops'),
      (store) => expect(lateView(store)).toMatchObject({ channels: ['general'], channelPeople: {} })
    ],
    [
      'setProjectChannelPeople sets the people of `ops` on `late`',
      (store) => expect(store.setProjectChannelPeople('late', 'ops', ['ben'])).toEqual(['ben']),
      (store) => expect(lateView(store)?.channelPeople).toEqual({ ops: ['ben'] })
    ],
    [
      'addProjectRoot adds a root to `late` (no "Project not found")',
      (store) => expect(store.addProjectRoot('late', '/src/late-api').path).toBe('/src/late-api'),
      (store) => expect(lateView(store)?.roots.map((root) => root.path)).toEqual(['/src/late', '/src/late-docs', '/src/late-api'])
    ],
    [
      'removeProjectRoot removes a root of `late`',
      (store) => store.removeProjectRoot('late', 'late-docs'),
      (store) => expect(lateView(store)?.roots.map((root) => root.id)).toEqual(['late-r1'])
    ],
    [
      'addProjectIntegration adds one to `late` (no "Project not found")',
      (store) => expect(store.addProjectIntegration('late', 'Sentry', 'sentry')).toMatchObject({ name: 'Sentry', type: 'sentry' }),
      (store) => expect(lateView(store)?.integrations.map((integration) => integration.name)).toEqual(['CI', 'Sentry'])
    ],
    [
      'removeProjectIntegration removes the integration of `late`',
      (store) => store.removeProjectIntegration('late', 'late-ci'),
      (store) => expect(lateView(store)?.integrations).toEqual([])
    ],
    [
      'updateProject renames `late`',
      (store) => store.updateProject('late', { name: 'Later' }),
      (store) => expect(lateView(store)?.name).toBe('Later')
    ]
  ]

  for (const [what, call, check] of calls) {
    it(`[FILE-12] ${what}, and the change event for \`late\` has fired by the time the call returns`, async () => {
      const { store, changes } = await lateWriteByAnotherProcess()
      call(store)
      // Checked before any other store call, which would merge the file itself.
      expect(changes).toEqual([{ projectIds: ['late'], source: 'file' }])
      check(store)
    })
  }
})

describe('DOC-4: a file from a newer Orchard refuses every write', () => {
  async function newerFile(): Promise<string> {
    const source = tempProjectsFile(sampleText)
    const writer = openStore(source).store
    writer.addProjectChannel('infra', 'x')
    await writer.close()
    const newer = JSON.parse(readFileSync(source, 'utf8'))
    newer.orchard.schemaMajor = 2
    const file = tempProjectsFile()
    writeFileSync(file, JSON.stringify(newer, null, 2))
    return file
  }

  it('[DOC-4] every write function throws ReadOnlyWorkspaceError saying why, even for a project it shows, and the file is never rewritten', async () => {
    const file = await newerFile()
    const before = readFileSync(file, 'utf8')
    const { store, saves } = openStore(file)
    expect(store.loadStore().projects.map((project) => project.id)).toEqual(['pear-app', 'infra'])
    const writes: Array<[string, () => unknown]> = [
      ['addProject', () => store.addProject('x', '/x')],
      ['removeProject', () => store.removeProject('infra')],
      ['addProjectChannel', () => store.addProjectChannel('infra', 'ops')],
      ['removeProjectChannel', () => store.removeProjectChannel('pear-app', 'frontend')],
      ['setProjectChannelPeople', () => store.setProjectChannelPeople('pear-app', 'frontend', ['zoe'])],
      ['addProjectRoot', () => store.addProjectRoot('infra', '/home/ana/ops/more')],
      ['removeProjectRoot', () => store.removeProjectRoot('pear-app', 'docs-root')],
      ['addProjectIntegration', () => store.addProjectIntegration('infra', 'Sentry')],
      ['removeProjectIntegration', () => store.removeProjectIntegration('pear-app', 'b2e0d6c4-8f7a-4c3b-a1d2-e3f4a5b6c7d8')],
      ['updateProject', () => store.updateProject('infra', { name: 'Renamed' })],
      ['setProjectHost', () => store.setProjectHost('infra', { instanceId: 'laptop' })],
      ['saveStore', () => store.saveStore(store.loadStore())]
    ]
    for (const [name, write] of writes) {
      let thrown: unknown
      try {
        write()
      } catch (error) {
        thrown = error
      }
      expect(thrown, name).toBeInstanceOf(ReadOnlyWorkspaceError)
      expect((thrown as Error).message, name).toMatch(/newer Orchard.*update Orchard to edit it/)
    }
    expect(store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra'])
    await store.flush()
    expect(saves()).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(before)
  })
})
