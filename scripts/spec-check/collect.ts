/**
 * Lists every test vitest would run under a config, without running any: vitest imports each
 * test file and records its tests (titles built by contract suites included), with each
 * test's mode, so skipped and todo tests can be told apart.
 */
import { relative } from 'node:path'
import { createVitest } from 'vitest/node'
import type { ListedTest } from './citations.js'

export async function listTests(root: string, configFile: string): Promise<ListedTest[]> {
  const vitest = await createVitest('test', { root, config: configFile, watch: false }, {}, {})
  try {
    const result = await vitest.collect()
    const broken = result.testModules.filter((module) => module.state() === 'failed')
    if (broken.length > 0 || result.unhandledErrors.length > 0) {
      const files = broken.map((module) => relative(root, module.moduleId)).join(', ')
      throw new Error(`spec-check: vitest could not load ${files || 'some test files'}; fix them first (run them with vitest to see why)`)
    }
    const tests: ListedTest[] = []
    for (const module of result.testModules) {
      for (const test of module.children.allTests()) {
        tests.push({ name: test.fullName, file: relative(root, module.moduleId), mode: test.options.mode })
      }
    }
    return tests
  } finally {
    await vitest.close()
  }
}
