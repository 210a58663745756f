/**
 * Which rules the tests cite. Only the titles of tests that run count: a rule named in a
 * comment, or only by an `it.skip` / `it.todo` (or a test inside a skipped describe), is
 * not checked by anything, so it is not cited.
 */
export const CITE = /\[([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d+)\]/g

export interface ListedTest {
  /** the full title, describe blocks included, as vitest reports it */
  name: string
  file: string
  /** vitest's mode: 'run' and 'only' run; 'skip' and 'todo' do not */
  mode: 'run' | 'only' | 'skip' | 'todo'
}

/** rule id -> the files whose running tests cite it */
export function citations(tests: readonly ListedTest[]): Map<string, Set<string>> {
  const cited = new Map<string, Set<string>>()
  for (const test of tests) {
    if (test.mode === 'skip' || test.mode === 'todo') continue
    for (const match of test.name.matchAll(CITE)) {
      const id = match[1] as string
      const files = cited.get(id) ?? new Set<string>()
      files.add(test.file)
      cited.set(id, files)
    }
  }
  return cited
}

export interface CheckResult {
  problems: string[]
  ruleCount: number
  citationCount: number
}

export function check(rules: ReadonlyMap<string, string>, duplicates: readonly string[], tests: readonly ListedTest[]): CheckResult {
  const cited = citations(tests)
  const problems = [...duplicates]
  for (const [id, spec] of rules) {
    if (!cited.has(id)) problems.push(`${id} (${spec}) is not cited by any test that runs (skipped, todo and comments do not count)`)
  }
  for (const [id, files] of cited) {
    if (!rules.has(id)) problems.push(`${[...files].join(', ')} cite ${id}, which no SPEC.md defines`)
  }
  return { problems, ruleCount: rules.size, citationCount: cited.size }
}
