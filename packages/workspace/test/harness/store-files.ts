/**
 * Stores on real projects.json files in temp folders, for the workspace's file-backed store
 * tests: each store records what a user (Pear, an app) would see of it (its `change` events,
 * its `error` reports, its log lines) and counts its saves (the `saved` event), so a test can
 * say both what was written and that nothing was. Stores close before their folders go.
 *
 * Two ways in, one implementation: module functions with `afterEach(cleanupAll)`, or
 * `storeFiles()`, which registers that afterEach itself.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach } from 'vitest'
import { PearStore, type PearStoreOptions, type StoreChange, type StoreProblem } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'
import { storeProject } from './fixtures.js'

/** Pear's own sample projects.json: projects `pear-app` (two roots) and `infra` (one root). */
export const sampleText = readFileSync(new URL('../fixtures/pear-projects.sample.json', import.meta.url), 'utf8')

const cleanups: Array<() => void | Promise<void>> = []

/** Closes every store and removes every folder made since the last call (call it in afterEach). */
export async function cleanupAll(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn()
}

/** A projects.json path in a fresh temp folder, holding `content` when it is given. */
export function tempProjectsFile(content?: string, prefix = 'orchard-store-files-'): string {
  const { dir, cleanup } = tempDir(prefix)
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

/**
 * Registers `afterEach(cleanupAll)`: call once at the top of a test file. `setup` makes a
 * projects.json in a fresh folder; `open` is openStore (`saveDelayMs: 60_000` in `extra`:
 * a store that saves only when flushed).
 */
export function storeFiles(prefix = 'orchard-store-files-') {
  afterEach(cleanupAll)
  return {
    setup(content?: string): { dir: string; file: string } {
      const file = tempProjectsFile(content, prefix)
      return { dir: dirname(file), file }
    },
    open: openStore,
    cleanups
  }
}

/** A Pear project entry as projects.json holds it (fixtures.ts's defaults), with the given keys replacing the defaults. */
export function projectEntry(id: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...storeProject(id), ...more }
}

/** A project entry as Pear writes it, with one root at `path`. */
export function pearEntry(id: string, name: string, path: string, more: Record<string, unknown> = {}) {
  return {
    id,
    name,
    relayWorkspaceId: id,
    rootPath: path,
    roots: [{ id: `${id}-root`, name: path.split('/').pop(), path }],
    channels: ['general'],
    channelPeople: {},
    integrations: [],
    ...more
  }
}

/** A legacy (Pear-only, no `orchard` section) projects.json holding these entries. */
export function legacyFile(projects: unknown[], more: Record<string, unknown> = {}): string {
  return JSON.stringify({ projects, activeProjectId: null, ...more }, null, 2)
}
