/**
 * spec-check inside `vitest run`: when a run covers every test file and every test name of
 * the config (the whole suite, as `pnpm test` and CI run it), the tests it collected are the
 * list spec-check needs, so the check costs nothing extra. A problem fails the run. Partial
 * runs (a file filter, `-t`, a shard) are not checked: they cannot see every citation.
 */
import { relative } from 'node:path'
import type { Reporter, TestModule, TestSpecification, Vitest } from 'vitest/node'
import { check, type ListedTest } from './citations.js'
import { readRules } from './rules.js'

export class SpecCheckReporter implements Reporter {
  private vitest: Vitest | null = null
  private whole = false

  onInit(vitest: Vitest): void {
    this.vitest = vitest
  }

  async onTestRunStart(specifications: ReadonlyArray<TestSpecification>): Promise<void> {
    const vitest = this.vitest
    if (!vitest) return
    const config = vitest.config
    // A file filter shows up as fewer specifications than the config's globs give.
    if (config.testNamePattern !== undefined || config.shard !== undefined) return
    const all = await vitest.globTestSpecifications()
    this.whole = specifications.length === all.length
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (!this.whole || !this.vitest) return
    const root = this.vitest.config.root
    const tests: ListedTest[] = []
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        tests.push({ name: test.fullName, file: relative(root, module.moduleId), mode: test.options.mode })
      }
    }
    const { rules, duplicates } = readRules(root)
    const result = check(rules, duplicates, tests)
    for (const problem of result.problems) console.error(`spec-check: ${problem}`)
    if (result.problems.length > 0) process.exitCode = 1
    else console.log(`spec-check: ${result.ruleCount} rules, all cited by the ${tests.length} tests of this run; ${result.citationCount} citations, all defined`)
  }
}
