/**
 * PEAR-15 across a saveStore that reorders a project's keys: what loadStore returns and what
 * the next writes put in the file follow Pear's own store on the same calls (old-pear
 * harness), step by step. Pear writes the entry it is given, its next load reorders it
 * (schema keys first, the rest as they were), and its next save writes that load's order.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PearStore, type Project, type StoreProblem } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'
import { oldPearCall, oldPearLoad, oldPearSave } from './harness/old-pear.js'
import { pearEntry } from './harness/store-files.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function openOn(content: string) {
  const { dir, cleanup } = tempDir('orchard-psc-order-')
  cleanups.push(cleanup)
  const file = join(dir, 'projects.json')
  writeFileSync(file, content)
  const store = new PearStore({ file, logger: recordingLogger(), saveDelayMs: 1 })
  const errors: StoreProblem[] = []
  store.on('error', (problem) => errors.push(problem))
  cleanups.push(() => store.close().catch(() => undefined))
  return { store, file, errors }
}

const project = pearEntry

/** A legacy Pear file: `web` has two keys of its own, `color` before `emoji`. */
const legacy = oldPearSave({
  projects: [project('web', 'Web', '/src/web', { color: 'green', emoji: 'leaf' }), project('api', 'API', '/src/api')],
  activeProjectId: 'web'
})

/** `entry` with `emoji` moved to the front and `color` to the end: an app that rebuilds its records. */
function reordered(entry: Project): Project {
  const { emoji, color, ...rest } = entry as Project & { emoji: unknown; color: unknown }
  return { emoji, ...rest, color } as unknown as Project
}

const projectsText = (text: string) => JSON.stringify((JSON.parse(text) as { projects: unknown }).projects, null, 2)

describe('key order after a saveStore that reorders an entry', () => {
  it('[PEAR-15] loadStore right after the saveStore gives the order Pear\'s load of that save gives, though the project did not change', () => {
    const { store } = openOn(legacy)
    const data = store.loadStore()
    expect(Object.keys(data.projects[0]!).slice(-2)).toEqual(['color', 'emoji'])
    data.projects[0] = reordered(data.projects[0]!)
    store.saveStore(data)
    const pear = oldPearLoad(oldPearSave(data))
    // Pear's loader: schema keys first, then `emoji, color` as the saved entry had them.
    expect(Object.keys(pear.projects[0]!).slice(-2)).toEqual(['emoji', 'color'])
    expect(JSON.stringify(store.loadStore().projects)).toBe(JSON.stringify(pear.projects))
  })

  it('[PEAR-15] the saveStore\'s order is written once; the next write by any function has Pear\'s load order of that file, as Pear\'s next save writes', async () => {
    const { store, file, errors } = openOn(legacy)
    const data = store.loadStore()
    data.projects[0] = reordered(data.projects[0]!)
    data.projects[1]!.name = 'API 2'
    store.saveStore(data)
    await store.flush()
    let pear = oldPearSave(data)
    // Written as given: `emoji` first, as Pear writes it.
    expect(projectsText(readFileSync(file, 'utf8'))).toBe(projectsText(pear))
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')).projects[0])[0]).toBe('emoji')

    store.addProjectChannel('web', 'ops')
    pear = oldPearCall(pear, (pearData) => void pearData.projects[0]!.channels.push('ops'))
    await store.flush()
    const written = readFileSync(file, 'utf8')
    // Pear's next save: schema keys first, then `emoji, color` (not the saved entry's
    // `emoji` first, and not the order the file had before the saveStore).
    expect(Object.keys(JSON.parse(written).projects[0]).slice(0, 2)).toEqual(['id', 'name'])
    expect(Object.keys(JSON.parse(written).projects[0]).slice(-2)).toEqual(['emoji', 'color'])
    expect(projectsText(written)).toBe(projectsText(pear))
    expect(errors).toEqual([])
  })
})
