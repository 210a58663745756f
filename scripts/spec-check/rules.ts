/** The rules a repo defines: `- **RULE-1** text` lines in packages/<name>/SPEC.md and test/<name>/SPEC.md. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const RULE = /\*\*([A-Z][A-Z0-9]*(?:-[A-Z][A-Z0-9]*)*-\d+)\*\*/g

export interface RuleSet {
  /** rule id -> the SPEC.md (relative to root) that defines it */
  rules: Map<string, string>
  /** ids defined in two places: each one a problem to report */
  duplicates: string[]
}

export function readRules(root: string): RuleSet {
  const rules = new Map<string, string>()
  const duplicates: string[] = []
  // Packages' rules, then cross-package suites' (test/consumer: what an installing app gets).
  const folders = ['packages', 'test'].flatMap((top) => {
    const dir = join(root, top)
    return existsSync(dir) ? readdirSync(dir).sort().map((name) => `${top}/${name}`) : []
  })
  for (const folder of folders) {
    const spec = join(root, folder, 'SPEC.md')
    if (!existsSync(spec)) continue
    const where = `${folder}/SPEC.md`
    for (const match of readFileSync(spec, 'utf8').matchAll(RULE)) {
      const id = match[1] as string
      const first = rules.get(id)
      if (first !== undefined) duplicates.push(`${id} is defined twice (${first} and ${where})`)
      else rules.set(id, where)
    }
  }
  return { rules, duplicates }
}
