/**
 * Stores on real projects.json files in temp folders, for the pear-store-b-* tests: each
 * store records what a user (Pear, an app) would see of it — its `change` events, its
 * `error` reports and how many times it wrote the file — and everything made is removed
 * after each test by `cleanupAll`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PearStore, type PearStoreOptions, type StoreChange, type StoreProblem } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'

/** Pear's own sample projects.json: projects `pear-app` (two roots) and `infra` (one root). */
export const sampleText = readFileSync(new URL('../fixtures/pear-projects.sample.json', import.meta.url), 'utf8')

const cleanups: Array<() => void | Promise<void>> = []

/** Closes every store and removes every folder made since the last call (call it in afterEach). */
export async function cleanupAll(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn()
}

/** A projects.json path in a fresh temp folder, holding `content` when it is given. */
export function tempProjectsFile(content?: string): string {
  const { dir, cleanup } = tempDir('orchard-psb-')
  cleanups.push(cleanup)
  const file = join(dir, 'projects.json')
  if (content !== undefined) writeFileSync(file, content)
  return file
}

export interface WatchedStore {
  store: PearStore
  logger: ReturnType<typeof recordingLogger>
  changes: StoreChange[]
  errors: StoreProblem[]
  /** How many times this store has written projects.json. */
  saves: () => number
}

/** A store on `file` (saves debounced 1 ms unless told otherwise), closed by cleanupAll. */
export function openStore(file: string, extra: Partial<PearStoreOptions> = {}): WatchedStore {
  const logger = recordingLogger()
  const store = new PearStore({ file, logger, saveDelayMs: 1, ...extra })
  const changes: StoreChange[] = []
  const errors: StoreProblem[] = []
  let saves = 0
  store.onChange((change) => changes.push(change))
  store.on('error', (problem) => errors.push(problem))
  store.on('saved', () => saves++)
  cleanups.push(() => store.close().catch(() => undefined))
  return { store, logger, changes, errors, saves: () => saves }
}

/** A Pear project entry as projects.json holds it, with the given keys replacing the defaults. */
export function projectEntry(id: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `Project ${id}`,
    relayWorkspaceId: id,
    rootPath: `/src/${id}`,
    roots: [{ id: `${id}-main`, name: id, path: `/src/${id}` }],
    channels: ['general'],
    channelPeople: {},
    integrations: [],
    ...more
  }
}
