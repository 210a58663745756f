/**
 * Issue 10: Orchard's store behaves as Pear's own store on the same projects.json files
 * and the same calls, except where SPEC.md's table says Orchard deliberately does better.
 * Each test names what a Pear user would see.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ZodError } from 'zod'
import { PearStore, type StoreData } from '@orchard/workspace'
import { pearEntry, storeFiles } from './harness/store-files.js'
import { oldPearCall, oldPearLoad, oldPearSave, type OldPearStore } from './harness/old-pear.js'

const sample = readFileSync(new URL('./fixtures/pear-projects.sample.json', import.meta.url), 'utf8')
const { setup, open, cleanups } = storeFiles('orchard-fidelity-')

const project = pearEntry

describe('item 1: first run without Pear\'s config folder', () => {
  it('[FILE-13] the folder of projects.json is created and the first save lands', async () => {
    const { dir } = setup()
    const file = join(dir, 'userData', 'config', 'projects.json')
    const { store, errors } = open(file)
    store.addProject('First', '/src/first')
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).projects.map((p: { name: string }) => p.name)).toEqual(['First'])
    expect(errors).toEqual([])
  })
})

describe('item 2: writes by other processes', () => {
  it('[FILE-12] a write by another Orchard process is in the very next loadStore, with a change event', async () => {
    const { file } = setup(sample)
    const { store: a } = open(file)
    const { store: b } = open(file)
    const changes: string[] = []
    a.onChange((change) => changes.push(`${change.source}:${change.projectIds.join(',')}`))
    b.addProjectChannel('infra', 'from-b')
    await b.flush()
    expect(a.loadStore().projects[1]!.channels).toEqual(['general', 'from-b'])
    expect(changes).toEqual(['file:infra'])
  })

  it('[FILE-12] an older Pear\'s or an editor\'s write is merged before any store call answers', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    const old = oldPearLoad(readFileSync(file, 'utf8'))
    old.projects[0]!.name = 'Renamed by old Pear'
    old.projects.push(project('new-one', 'Added by old Pear', '/src/new') as never)
    old.activeProjectId = 'new-one'
    writeFileSync(file, oldPearSave(old))
    expect(store.findProjectsWithPath('/src/new')).toEqual([{ id: 'new-one', name: 'Added by old Pear' }])
    const view = store.loadStore()
    expect(view.projects.map((p) => p.name)).toEqual(['Renamed by old Pear', 'Infra', 'Added by old Pear'])
    expect(view.activeProjectId).toBe('new-one')
  })
})

describe('item 3: duplicate ids', () => {
  const dupFile = JSON.stringify(
    {
      projects: [
        project('dup', 'First of two', '/src/one'),
        project('other', 'Other', '/src/other', {
          roots: [
            { id: 'same-root', name: 'a', path: '/src/other' },
            { id: 'same-root', name: 'b', path: '/src/other-b' }
          ],
          integrations: [
            { id: 'same-int', name: 'GitHub', type: 'github' },
            { id: 'same-int', name: 'Linear', type: 'linear' }
          ]
        }),
        project('dup', 'Second of two', '/src/two', { teamNote: 'keep me' })
      ],
      activeProjectId: null
    },
    null,
    2
  )

  it('[PEAR-14] two projects with one id are both returned where Pear has them, reported, and both kept in the file', async () => {
    const { file } = setup(dupFile)
    const { store, errors } = open(file)
    const pear = oldPearLoad(dupFile)
    expect(store.loadStore().projects).toEqual(pear.projects)
    expect(store.problems.map((problem) => problem.kind)).toEqual(['duplicate-ids'])
    expect(store.problems[0]!.message).toContain('dup')
    expect(store.findProjectsWithPath('/src/two')).toEqual([{ id: 'dup', name: 'Second of two' }])
    // An edit forces a save; the extra entry is still in the file, whole, for any Pear.
    store.addProjectChannel('other', 'ops')
    await store.flush()
    const written = oldPearLoad(readFileSync(file, 'utf8'))
    expect(written.projects.map((p) => p.name)).toEqual(['First of two', 'Other', 'Second of two'])
    expect(written.projects[2]!.teamNote).toBe('keep me')
    expect(errors).toEqual([])
    // A round trip through loadStore/saveStore keeps both; Pear's removeProject removes both.
    store.saveStore(store.loadStore())
    expect(store.loadStore().projects.map((p) => p.name)).toEqual(['First of two', 'Other', 'Second of two'])
    store.removeProject('dup')
    expect(store.loadStore().projects.map((p) => p.name)).toEqual(['Other'])
  })

  it('[PEAR-14] a duplicate whose shared project another machine removed stays shown, through saveStore, reopening and an editor\'s write, until removeProject here', async () => {
    const { file } = setup(dupFile)
    const { store, errors } = open(file)
    // Another machine in the workspace removes the shared project "dup".
    const other = new PearStore({ doc: new Y.Doc({ guid: store.workspaceId }) })
    cleanups.push(() => other.close())
    Y.applyUpdateV2(other.doc, Y.encodeStateAsUpdateV2(store.doc))
    other.removeProject('dup')
    Y.applyUpdateV2(store.doc, Y.encodeStateAsUpdateV2(other.doc), 'relay')
    // This machine's copy is this machine's: Pear would still show it.
    expect(store.loadStore().projects.map((p) => p.name)).toEqual(['Other', 'Second of two'])
    // It is now the only entry with its id; a whole-store save still keeps it (renamed).
    const data = store.loadStore()
    data.projects[1]!.name = 'Second, renamed'
    store.saveStore(data)
    expect(store.loadStore().projects.map((p) => p.name)).toEqual(['Other', 'Second, renamed'])
    await store.close()
    // Reopened, it is still there, and an editor's change to it is that copy's change.
    const reopened = open(file)
    expect(reopened.store.loadStore().projects.map((p) => p.name)).toEqual(['Other', 'Second, renamed'])
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { projects: Array<{ id: string; name: string; teamNote?: string }> }
    expect(onDisk.projects.map((p) => [p.id, p.name, p.teamNote])).toEqual([['other', 'Other', undefined], ['dup', 'Second, renamed', 'keep me']])
    onDisk.projects[1]!.name = 'Edited by hand'
    writeFileSync(file, oldPearSave(onDisk))
    expect(reopened.store.loadStore().projects.map((p) => p.name)).toEqual(['Other', 'Edited by hand'])
    // Pear's removeProject removes every entry with the id; so does this one.
    reopened.store.removeProject('dup')
    expect(reopened.store.loadStore().projects.map((p) => p.name)).toEqual(['Other'])
    await reopened.store.flush()
    expect(oldPearLoad(readFileSync(file, 'utf8')).projects.map((p) => p.name)).toEqual(['Other'])
    expect([...errors, ...reopened.errors]).toEqual([])
  })

  it('[PEAR-14] two roots or two integrations with one id are both shown, as Pear shows them', () => {
    const { file } = setup(dupFile)
    const { store } = open(file)
    const other = store.loadStore().projects[1]!
    expect(other.roots.map((root) => root.name)).toEqual(['a', 'b'])
    expect(other.integrations.map((integration) => integration.name)).toEqual(['GitHub', 'Linear'])
    expect(other).toEqual(oldPearLoad(dupFile).projects[1])
  })
})

describe('item 4: reading never rewrites', () => {
  it('[FILE-14] opening and reading a plain Pear file leaves it byte for byte as it was', async () => {
    const { file } = setup(sample)
    const before = statSync(file, { bigint: true })
    const { store, saves } = open(file)
    store.loadStore()
    store.getRelayWorkspace()
    store.getRelayWorkspaceRecord()
    store.findProjectsWithPath('/home/ana/code/pear')
    // flush() writes whatever is pending; with nothing changed it must write nothing.
    await store.flush()
    await store.close()
    expect(readFileSync(file, 'utf8')).toBe(sample)
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(before.mtimeNs)
    expect(saves()).toBe(0)
  })

  it('[FILE-14] two processes that open one legacy file build one workspace from it', () => {
    const { file } = setup(sample)
    const { store: a } = open(file)
    const { store: b } = open(file)
    expect(a.workspaceId).toBe(b.workspaceId)
  })
})

describe('item 5: the relay workspace record', () => {
  it('[API-10] loadStore and the getters return the record as the file holds it, as Pear does', () => {
    const raw = { id: ' rw ', createdAt: '2026-10-01', apiUrl: 'https://relay.dev//', authKey: 'k', extra: { keep: true } }
    const { file } = setup(JSON.stringify({ ...JSON.parse(sample), relayWorkspace: raw }))
    const { store } = open(file)
    expect(store.loadStore().relayWorkspace).toEqual(raw)
    expect(store.getRelayWorkspaceRecord()).toEqual(raw)
    expect(store.getRelayWorkspace()).toEqual({ id: ' rw ', createdAt: '2026-10-01' })
  })

  it('[API-10] a string record reads as Pear reads it: {} from getRelayWorkspace, the string from loadStore', () => {
    const { file } = setup(JSON.stringify({ ...JSON.parse(sample), relayWorkspace: 'rw-as-a-string' }))
    const { store } = open(file)
    expect(store.getRelayWorkspace()).toEqual({})
    expect(store.loadStore().relayWorkspace).toBe('rw-as-a-string')
    expect(store.getRelayWorkspaceRecord()).toBe('rw-as-a-string')
  })
})

describe('item 6: cloudAgent null', () => {
  it('[LOCAL-3] cloudAgent: null is kept through loads, saves and reopening, as Pear keeps it', async () => {
    const data = JSON.parse(sample)
    data.projects[1].cloudAgent = null
    const { file } = setup(JSON.stringify(data, null, 2))
    const first = open(file).store
    expect(first.loadStore().projects[1]).toHaveProperty('cloudAgent', null)
    first.addProjectChannel('infra', 'x')
    await first.close()
    expect(oldPearLoad(readFileSync(file, 'utf8')).projects[1]).toHaveProperty('cloudAgent', null)
    const { store } = open(file)
    expect(store.loadStore().projects[1]).toHaveProperty('cloudAgent', null)
    const loaded = store.loadStore()
    loaded.projects[0]!.cloudAgent = null
    store.saveStore(loaded)
    expect(store.loadStore().projects[0]).toHaveProperty('cloudAgent', null)
  })
})

describe('item 7: wrong-typed arguments', () => {
  it('[API-12] saveStore of a non-object writes nothing and reports it, where Pear would write a file that loads empty', async () => {
    const { file } = setup(sample)
    const { store, errors } = open(file)
    const before = store.loadStore()
    for (const bad of ['str', null, 5, [], true]) {
      expect(() => store.saveStore(bad as unknown as StoreData)).not.toThrow()
    }
    expect(() => store.saveStore(undefined as unknown as StoreData)).toThrow(TypeError)
    store.saveStore({ ...store.loadStore(), projects: 'x' as never, activeProjectId: 7 as never })
    expect(() => store.setActiveProject(5 as never)).not.toThrow()
    await store.flush()
    expect(readFileSync(file, 'utf8')).toBe(sample)
    expect(store.loadStore()).toEqual(before)
    expect(Object.keys(store.loadStore())).not.toContain('0')
    expect(errors.map((error) => error.kind)).toEqual(Array(8).fill('bad-argument'))
    expect(errors[0]!.message).toContain('the string "str"')
  })

  it('[API-12] other functions throw what Pear throws, and write nothing', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    expect(() => store.addProjectChannel('infra', 5 as never)).toThrow(new TypeError('value.normalize is not a function'))
    expect(() => store.removeProjectChannel('missing', 5 as never)).toThrow(new TypeError('value.normalize is not a function'))
    expect(() => store.setProjectChannelPeople('infra', {} as never, [])).toThrow(TypeError)
    expect(() => store.updateProject('infra', null as never)).toThrow(TypeError)
    expect(() => store.addProjectIntegration('infra', 5 as never)).toThrow(ZodError)
    expect(() => store.addProjectIntegration('missing', 5 as never)).toThrow(new Error('Project not found'))
    expect(() => store.findProjectsWithPath(5 as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }))
    expect(() => store.addProject('x', 5 as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }))
    expect(() => store.addProjectRoot('infra', '/src/r', 5 as never)).toThrow(TypeError)
    expect(() => store.removeProjectRoot('infra', 'x')).toThrow(new Error('A project must have at least one root'))
    store.setProjectChannelPeople('infra', 'general', 'not-a-list' as never)
    await store.flush()
    expect(readFileSync(file, 'utf8')).toBe(sample)
  })
})

describe('item 8: whitespace in ids', () => {
  it('[PEAR-1] a spaced project id gets the relayWorkspaceId Pear settles on, and Pear reads Orchard\'s file the same', async () => {
    const data = JSON.parse(sample)
    data.projects.push({ id: ' p-spaced-id ', name: 'Spaced', roots: [{ id: ' r1 ', path: '/src/spaced' }] })
    const { file } = setup(JSON.stringify(data))
    const { store } = open(file)
    const spaced = store.loadStore().projects[2]!
    expect(spaced).toMatchObject({ id: ' p-spaced-id ', relayWorkspaceId: 'p-spaced-id', roots: [{ id: 'r1', path: '/src/spaced' }] })
    // Pear: its first load defaults to the untrimmed id; its next load (of the file it saved) trims it.
    const pearOnce = oldPearLoad(oldPearSave(oldPearLoad(JSON.stringify(data)))).projects[2]
    expect(spaced).toEqual(pearOnce)
    store.addProjectChannel(' p-spaced-id ', 'x')
    await store.flush()
    expect(oldPearLoad(readFileSync(file, 'utf8')).projects).toEqual(store.loadStore().projects)
  })
})

describe('item 9: the implicit general channel', () => {
  it('[PEAR-5] after removing every channel, adding one gives general and it, people on general survive, and the file says []', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    store.removeProjectChannel('infra', 'general')
    expect(store.loadStore().projects[1]!.channels).toEqual(['general'])
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).projects[1].channels).toEqual([])
    expect(oldPearLoad(readFileSync(file, 'utf8')).projects[1]!.channels).toEqual(['general'])
    store.setProjectChannelPeople('infra', 'general', ['ana'])
    store.addProjectChannel('infra', 'ops')
    expect(store.loadStore().projects[1]).toMatchObject({ channels: ['general', 'ops'], channelPeople: { general: ['ana'] } })
    store.removeProjectChannel('infra', 'general')
    store.removeProjectChannel('infra', 'ops')
    store.addProjectChannel('infra', 'dev')
    expect(store.loadStore().projects[1]!.channels).toEqual(['general', 'dev'])
  })
})

describe('item 10: a diff-friendly file', () => {
  it('[PEAR-8] a new integration is written name, type, id, as Pear writes it', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    const integration = store.addProjectIntegration('infra', 'Linear', 'linear')
    expect(Object.keys(integration)).toEqual(['name', 'type', 'id'])
    await store.flush()
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).projects[1].integrations[0])).toEqual(['name', 'type', 'id'])
  })
})

describe('item 10: key order as Pear writes it', () => {
  // A Pear file whose keys are not in Orchard's own order: unknown keys unsorted,
  // cloudAgent before them, channelPeople not in channel order, an integration's own key last.
  const ordered = JSON.stringify(
    {
      projects: [
        project('web', 'Web', '/src/web', {
          channels: ['general', 'ops', 'design'],
          channelPeople: { design: ['ana'], ops: ['ben'] },
          integrations: [{ id: 'int-1', name: 'GitHub', type: 'github', repo: 'example/web' }],
          cloudAgent: { id: 'ca-1', sandboxId: 'sb-1', relayfileMountPath: '/mnt/web', attachedAt: '2026-01-01T00:00:00.000Z', autoPullAfterRun: false },
          zeta: 1,
          cloudAgentWorkspaceMode: 'git',
          alpha: 2
        }),
        project('api', 'API', '/src/api', { teamNote: 'keep me' })
      ],
      activeProjectId: 'web'
    },
    null,
    2
  )
  const pearCalls: Array<[string, (store: PearStore) => void, (data: OldPearStore) => void]> = [
    ['addProjectChannel', (store) => store.addProjectChannel('web', 'Release Notes'), (data) => void data.projects[0]!.channels.push('release-notes')],
    ['setProjectChannelPeople (new key)', (store) => store.setProjectChannelPeople('web', 'release-notes', ['cy']), (data) => void (data.projects[0]!.channelPeople['release-notes'] = ['cy'])],
    ['setProjectChannelPeople (known key)', (store) => store.setProjectChannelPeople('web', 'ops', ['ben', 'dee']), (data) => void (data.projects[0]!.channelPeople.ops = ['ben', 'dee'])],
    ['updateProject', (store) => store.updateProject('api', { cloudAgentWorkspaceMode: 'relayfile' }), (data) => void (data.projects[1] = { ...data.projects[1]!, cloudAgentWorkspaceMode: 'relayfile' })],
    [
      'loadStore, edit, saveStore',
      (store) => {
        const data = store.loadStore()
        data.projects[1]!.owner = 'ops-team'
        data.projects[0]!.integrations[0]!.lastError = 'rate limited'
        store.saveStore(data)
      },
      (data) => {
        data.projects[1]!.owner = 'ops-team'
        data.projects[0]!.integrations[0]!.lastError = 'rate limited'
      }
    ],
    ['removeProjectChannel', (store) => store.removeProjectChannel('web', 'design'), (data) => {
      data.projects[0]!.channels = data.projects[0]!.channels.filter((channel) => channel !== 'design')
      delete data.projects[0]!.channelPeople.design
    }]
  ]

  it('[PEAR-15] after each call, the projects in the file have the key order Pear\'s saveStore writes for the same calls', async () => {
    const { file } = setup(ordered)
    const { store, errors } = open(file)
    let pear = ordered
    for (const [what, orchardCall, pearCall] of pearCalls) {
      orchardCall(store)
      pear = oldPearCall(pear, pearCall)
      await store.flush()
      const written = JSON.parse(readFileSync(file, 'utf8')) as { projects: unknown[] }
      // The projects part of the file, bytes as written (JSON.parse keeps key order).
      expect(JSON.stringify(written.projects, null, 2), `after ${what}`).toBe(JSON.stringify(JSON.parse(pear).projects, null, 2))
    }
    // What loadStore returns is in that order too, as Pear's loadStore returns it.
    expect(JSON.stringify(store.loadStore().projects)).toBe(JSON.stringify(oldPearLoad(pear).projects))
    expect(errors).toEqual([])
  })
})

describe('old Pear and Orchard on one file', () => {
  it('[FILE-15] old Pear reads every file Orchard writes as Orchard shows it, and the orchard section survives Pear\'s save', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    store.addProject('Made by Orchard', '/src/orchard')
    store.addProjectIntegration('pear-app', 'Linear')
    store.setProjectChannelPeople('pear-app', 'frontend', ['ana', 'ben'])
    store.removeProjectChannel('infra', 'general')
    await store.flush()
    const text = readFileSync(file, 'utf8')
    const pear = oldPearLoad(text)
    const orchardView = store.loadStore()
    expect(pear.projects).toEqual(orchardView.projects)
    expect(pear.activeProjectId).toBe(orchardView.activeProjectId)
    expect(pear.relayWorkspace).toEqual(orchardView.relayWorkspace)
    await store.close()
    // Pear edits and saves; its passthrough keeps `orchard`, and Orchard imports the edit.
    pear.projects[0]!.name = 'Renamed in old Pear'
    writeFileSync(file, oldPearSave(pear))
    expect(JSON.parse(readFileSync(file, 'utf8')).orchard).toEqual(JSON.parse(text).orchard)
    const { store: reopened } = open(file)
    expect(reopened.problems).toEqual([])
    expect(reopened.loadStore().projects.map((p) => p.name)).toEqual(['Renamed in old Pear', 'Infra', 'Made by Orchard'])
    expect(reopened.workspaceId).toBe(store.workspaceId)
  })
})
