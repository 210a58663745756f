/**
 * What a user reads when the store reports a problem: the `error` event, `store.problems`
 * and the log line, for a store with and without a file, and how a wrong-typed argument is
 * described in them. Written against the survivors of a Stryker run over PearStore.ts
 * lines 783-896 (TESTING.md, session 5).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore } from '../src/PearStore.js'
import { recordingLogger, tempDir } from '../src/testing/index.js'
import type { StoreData, StoreProblem } from '../src/index.js'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function memoryStore() {
  const logger = recordingLogger()
  const store = new PearStore({ doc: new Y.Doc({ guid: 'ws-d-reports' }), logger })
  const errors: StoreProblem[] = []
  store.on('error', (problem) => errors.push(problem))
  return { store, errors, logger }
}

describe('problem reports', () => {
  it('[API-12] a store without a file names "(memory)" in the report and logs one line with the message, no copy', () => {
    const { store, errors, logger } = memoryStore()
    store.setActiveProject(5 as unknown as string)
    const message = 'setActiveProject was given a number, not a project id or null; the active project was left as it is'
    expect(errors).toEqual([{ kind: 'bad-argument', file: '(memory)', message }])
    expect(store.problems).toEqual(errors)
    expect(logger.lines).toEqual([`error [orchard] (memory): ${message}`])
  })

  it('[API-12] null, a list and long strings are described as such, a string over 40 characters cut at 40', () => {
    const { store, errors } = memoryStore()
    store.saveStore(null as unknown as StoreData)
    store.saveStore([] as unknown as StoreData)
    store.setActiveProject(null) // valid: not reported
    store.setActiveProject(['p'] as unknown as string)
    const forty = 'a'.repeat(40)
    store.saveStore({ ...store.loadStore(), projects: forty as never })
    store.saveStore({ ...store.loadStore(), projects: `${forty}b` as never })
    expect(errors.map((error) => error.message)).toEqual([
      'saveStore was given null instead of the store object loadStore() returned; nothing was written (Pear would have written a file its next load reads as empty)',
      'saveStore was given a list instead of the store object loadStore() returned; nothing was written (Pear would have written a file its next load reads as empty)',
      'setActiveProject was given a list, not a project id or null; the active project was left as it is',
      `saveStore was given "projects" as the string "${forty}", not a list; the projects were left as they are`,
      `saveStore was given "projects" as the string "${forty}…", not a list; the projects were left as they are`
    ])
  })

  it('[FILE-7] a problem with a file names the file, and its log line says where the copy is kept', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    const file = join(dir, 'projects.json')
    writeFileSync(file, '{"projects": [')
    const logger = recordingLogger()
    const store = new PearStore({ file, logger })
    cleanups.push(() => store.close())
    const [problem] = store.problems
    expect(problem).toMatchObject({ kind: 'unreadable-file', file, preservedAt: expect.stringMatching(/projects\.json\.corrupt-/) })
    expect(logger.lines).toEqual([`error [orchard] ${file}: ${problem!.message} (copy kept at ${problem!.preservedAt})`])
  })
})
