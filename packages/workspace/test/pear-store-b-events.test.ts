/**
 * What the store tells its listeners (STORE-3, FILE-12) and which projects its calls reach:
 * a project the doc holds but cannot show yet is unknown to every call, as Pear's functions
 * ignore an id they cannot find (API-3, API-8, API-9).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { StoreChange } from '@orchard/workspace'
import { docParts } from '../src/doc-layout.js'
import { memoryStore, storePair } from './harness/fixtures.js'
import { oldPearCall } from './harness/old-pear.js'
import { cleanupAll, openStore, projectEntry, sampleText, tempProjectsFile } from './harness/store-files.js'

afterEach(cleanupAll)

describe('STORE-3, FILE-12: where a change came from', () => {
  it('[STORE-3] an edit arriving through the doc (a provider) is reported with source "remote" and its project id', () => {
    const { a, b, sync } = storePair()
    const { id } = a.addProject('P', '/src/p')
    sync()
    const changes: StoreChange[] = []
    b.onChange((change) => changes.push(change))
    a.addProjectChannel(id, 'ops')
    sync()
    expect(changes).toEqual([{ projectIds: [id], source: 'remote' }])
  })

  it('[FILE-12] a project an older Pear added to the file is reported at the next call with source "file" and its id', () => {
    const file = tempProjectsFile(sampleText)
    const { store, changes } = openStore(file)
    store.addProjectChannel('infra', 'ops')
    writeFileSync(file, oldPearCall(readFileSync(file, 'utf8'), (data) => data.projects.push(projectEntry('from-pear') as never)))
    expect(changes).toEqual([])
    expect(store.findProjectsWithPath('/src/from-pear')).toEqual([{ id: 'from-pear', name: 'Project from-pear' }])
    expect(changes).toEqual([{ projectIds: ['from-pear'], source: 'file' }])
  })
})

describe('API-3, API-8, API-9: a project the doc holds but cannot show yet', () => {
  it('[API-9] [API-3] [API-8] updateProject, removeProjectChannel and removeProjectIntegration ignore a project whose name has not arrived; it shows unchanged once the name does', () => {
    const store = memoryStore()
    const { id } = store.addProject('P', '/src/p')
    store.addProjectChannel(id, 'ops')
    const integration = store.addProjectIntegration(id, 'CI')
    const record = docParts(store.doc).projects.get(id) as Y.Map<unknown>
    // As a provider would leave it while the edit carrying the name is still on its way.
    store.doc.transact(() => record.delete('name'), 'relay')
    expect(store.loadStore().projects).toEqual([])

    store.updateProject(id, { name: 'Renamed while hidden' })
    store.removeProjectChannel(id, 'ops')
    store.removeProjectIntegration(id, integration.id)
    expect(store.loadStore().projects).toEqual([])

    store.doc.transact(() => record.set('name', 'P'), 'relay')
    expect(store.loadStore().projects).toEqual([
      expect.objectContaining({ id, name: 'P', channels: ['general', 'ops'], integrations: [integration] })
    ])
  })
})

describe('STORE-3: close', () => {
  it('[STORE-3] a closed store is detached from a doc that lives on (a provider\'s): later edits reach neither its listeners nor its model\'s', async () => {
    const { a, b, sync } = storePair()
    const { id } = a.addProject('P', '/src/p')
    sync()
    const heard: string[] = []
    b.onChange(() => heard.push('store'))
    // A view (the observer's WorkspaceView) follows the model of a session's store.
    b.model.on('change', () => heard.push('model'))
    await b.close()
    a.addProjectChannel(id, 'ops')
    sync()
    expect(heard).toEqual([])
  })
})
