/**
 * Checks SPEC citations both ways: every rule in a packages/<name>/SPEC.md is cited by at
 * least one test name ("[RULE-1] ..."), and every rule a test cites exists.
 * Rules are written `- **RULE-1** text`; a test cites one as `it('[RULE-1] ...')`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const RULE = /\*\*([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d+)\*\*/g
const CITE = /\[([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d+)\]/g

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, out)
    else out.push(path)
  }
  return out
}

const files = walk(root)
const rules = new Map<string, string>()
for (const file of files.filter((f) => f.endsWith('SPEC.md'))) {
  for (const match of readFileSync(file, 'utf8').matchAll(RULE)) {
    const id = match[1] as string
    if (rules.has(id)) {
      console.error(`spec-check: ${id} is defined twice (${rules.get(id)} and ${relative(root, file)})`)
      process.exitCode = 1
    }
    rules.set(id, relative(root, file))
  }
}

const cited = new Map<string, string[]>()
// Test files, plus shared contract suites (they hold the tests every implementation runs).
for (const file of files.filter((f) => /\.test\.ts$/.test(f) || /\/contract\/[^/]+\.ts$/.test(f))) {
  const text = readFileSync(file, 'utf8')
  for (const match of text.matchAll(CITE)) {
    const id = match[1] as string
    const list = cited.get(id) ?? []
    list.push(relative(root, file))
    cited.set(id, list)
  }
}

const uncited = [...rules.keys()].filter((id) => !cited.has(id))
const unknown = [...cited.keys()].filter((id) => !rules.has(id))
for (const id of uncited) console.error(`spec-check: ${id} (${rules.get(id)}) is not cited by any test`)
for (const id of unknown) console.error(`spec-check: ${(cited.get(id) ?? []).join(', ')} cite ${id}, which no SPEC.md defines`)
if (uncited.length > 0 || unknown.length > 0) process.exitCode = 1
else console.log(`spec-check: ${rules.size} rules, all cited; ${cited.size} citations, all defined`)
