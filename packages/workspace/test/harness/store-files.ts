/**
 * Stores on real projects.json files in temp folders, for the workspace's file-backed store
 * tests: each store records its problems and change events and counts its saves (the `saved`
 * event), so a test can say both what was written and that nothing was. Stores close before
 * their folders go.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { PearStore, type PearStoreOptions, type StoreChange, type StoreProblem } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'

export interface OpenedStore {
  store: PearStore
  errors: StoreProblem[]
  changes: StoreChange[]
  /** How many saves have completed so far. */
  saves: () => number
  logger: ReturnType<typeof recordingLogger>
}

/**
 * Registers its own afterEach: call once at the top of a test file. Stores save 1 ms after a
 * change unless `extra` says otherwise (`saveDelayMs: 60_000`: only when flushed).
 */
export function storeFiles(prefix = 'orchard-store-files-') {
  const cleanups: Array<() => void | Promise<void>> = []
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn()
  })

  /** A projects.json path in a fresh temp folder, holding `content` when given. */
  function setup(content?: string): { dir: string; file: string } {
    const { dir, cleanup } = tempDir(prefix)
    cleanups.push(cleanup)
    const file = join(dir, 'projects.json')
    if (content !== undefined) writeFileSync(file, content)
    return { dir, file }
  }

  function open(file: string, extra: Partial<PearStoreOptions> = {}): OpenedStore {
    const logger = recordingLogger()
    const store = new PearStore({ file, logger, saveDelayMs: 1, ...extra })
    const errors: StoreProblem[] = []
    const changes: StoreChange[] = []
    let saves = 0
    store.on('error', (problem) => errors.push(problem))
    store.onChange((change) => changes.push(change))
    store.on('saved', () => saves++)
    cleanups.push(() => store.close().catch(() => undefined))
    return { store, errors, changes, saves: () => saves, logger }
  }

  return { setup, open, cleanups }
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
