/**
 * spec-check itself (issue 11): a rule counts as cited only when a test that runs names it in
 * its title. The fixtures are two tiny repos: `cited` cites every rule; `uncited` cites
 * DEMO-3..6 only by a skipped test, a todo, a comment and a skipped describe, and cites a
 * DEMO-9 that no SPEC.md defines.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { check, type ListedTest } from './spec-check/citations.js'

const run = promisify(execFile)
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/spec-check/${name}`, import.meta.url))
const repo = fileURLToPath(new URL('..', import.meta.url))
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url))
const vitestBin = fileURLToPath(new URL('../node_modules/.bin/vitest', import.meta.url))

async function exitOf(file: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: { ...process.env, NO_COLOR: '1' } })
    return { code: 0, output: stdout + stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}

const uncitedLines = [
  'DEMO-3 (packages/demo/SPEC.md) is not cited by any test that runs',
  'DEMO-4 (packages/demo/SPEC.md) is not cited by any test that runs',
  'DEMO-5 (packages/demo/SPEC.md) is not cited by any test that runs',
  'DEMO-6 (packages/demo/SPEC.md) is not cited by any test that runs',
  'packages/demo/test/demo.test.ts cite DEMO-9, which no SPEC.md defines'
]

describe('spec-check', () => {
  it('counts only titles of tests that run: skip, todo and comments leave a rule uncited', () => {
    const rules = new Map([['A-1', 'SPEC.md'], ['A-2', 'SPEC.md'], ['A-3', 'SPEC.md']])
    const tests: ListedTest[] = [
      { name: 'suite > [A-1] runs', file: 'a.test.ts', mode: 'run' },
      { name: '[A-2] skipped', file: 'a.test.ts', mode: 'skip' },
      { name: '[A-3] todo', file: 'a.test.ts', mode: 'todo' },
      { name: '[B-1] only', file: 'b.test.ts', mode: 'only' }
    ]
    expect(check(rules, [], tests).problems).toEqual([
      'A-2 (SPEC.md) is not cited by any test that runs (skipped, todo and comments do not count)',
      'A-3 (SPEC.md) is not cited by any test that runs (skipped, todo and comments do not count)',
      'b.test.ts cite B-1, which no SPEC.md defines'
    ])
  })

  it('the command fails on a repo whose rules are cited only by skipped, todo, comment or unknown citations', async () => {
    const { code, output } = await exitOf(tsx, ['scripts/spec-check.ts', '--root', fixture('uncited')], repo)
    expect(code).toBe(1)
    for (const line of uncitedLines) expect(output).toContain(line)
    expect(output).not.toMatch(/DEMO-[12] \(/)
  })

  it('the command passes when every rule is cited by a running test, helper-built titles included', async () => {
    const { code, output } = await exitOf(tsx, ['scripts/spec-check.ts', '--root', fixture('cited')], repo)
    expect(output).toContain('spec-check: 6 rules, all cited')
    expect(code).toBe(0)
  })

  it('a whole `vitest run` fails on the same problems (the reporter pnpm test relies on)', async () => {
    const { code, output } = await exitOf(vitestBin, ['run', '--root', fixture('uncited')], repo)
    for (const line of uncitedLines) expect(output).toContain(line)
    expect(code).toBe(1)
    const good = await exitOf(vitestBin, ['run', '--root', fixture('cited')], repo)
    expect(good.output).toContain('spec-check: 6 rules, all cited')
    expect(good.code).toBe(0)
  })
})
