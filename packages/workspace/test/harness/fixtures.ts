/**
 * The project records and Pear fixtures the workspace's unit tests build from (src/*.test.ts
 * and test/*.test.ts alike), so each test file states only what it changes.
 */
import * as Y from 'yjs'
import { PearStore } from '../../src/PearStore.js'
import { parseProject } from '../../src/pear-rules.js'
import { recordingLogger } from '../../src/testing/index.js'
import type { Project } from '../../src/types.js'
import type { NewProjectRecord } from '../../src/WorkspaceModel.js'

/** The fields every project record starts with: one root at /src/<id>, the general channel. */
function defaults(id: string) {
  return {
    id,
    name: `Project ${id}`,
    relayWorkspaceId: id,
    rootPath: `/src/${id}`,
    roots: [{ id: `${id}-r1`, name: id, path: `/src/${id}` }],
    channels: ['general'],
    channelPeople: {},
    integrations: []
  }
}

/** A record as WorkspaceModel.addProject takes it. */
export function modelRecord(id: string, extra: Partial<NewProjectRecord> = {}): NewProjectRecord {
  return { ...defaults(id), ...extra }
}

/** A project as the store API hands it out. */
export function storeProject(id: string, extra: Partial<Project> = {}): Project {
  return { ...defaults(id), ...extra }
}

/** A minimal raw Pear project and its root, as projects.json holds them. */
export const pearRoot = { id: 'r1', name: 'app', path: '/home/ana/app' }
export const pearProject = { id: 'p1', name: 'App', roots: [pearRoot] }

/** parseProject on input that must be valid: the project, or a thrown reason. */
export function parseValid(raw: unknown) {
  const result = parseProject(raw)
  if (!result.ok) throw new Error(`expected a valid project: ${result.reason}`)
  return result.project
}

/** A store on an in-memory doc (no file), with a fixed client id when one is given. */
export function memoryStore(clientID?: number): PearStore {
  const doc = new Y.Doc({ guid: 'ws-test' })
  if (clientID !== undefined) doc.clientID = clientID
  return new PearStore({ doc, logger: recordingLogger() })
}

/** Two replicas of one workspace (client ids 1 and 2) and a full exchange between them, as the relay would relay it. */
export function storePair(): { a: PearStore; b: PearStore; sync: () => void } {
  const a = memoryStore(1)
  const b = memoryStore(2)
  const sync = () => {
    const ua = Y.encodeStateAsUpdateV2(a.doc)
    const ub = Y.encodeStateAsUpdateV2(b.doc)
    Y.applyUpdateV2(b.doc, ua, 'relay')
    Y.applyUpdateV2(a.doc, ub, 'relay')
  }
  return { a, b, sync }
}
