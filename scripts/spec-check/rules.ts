/** The rules a repo defines: `- **RULE-1** text` lines in packages/<name>/SPEC.md. */
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
  const packages = join(root, 'packages')
  const names = existsSync(packages) ? readdirSync(packages).sort() : []
  for (const name of names) {
    const spec = join(packages, name, 'SPEC.md')
    if (!existsSync(spec)) continue
    const where = `packages/${name}/SPEC.md`
    for (const match of readFileSync(spec, 'utf8').matchAll(RULE)) {
      const id = match[1] as string
      const first = rules.get(id)
      if (first !== undefined) duplicates.push(`${id} is defined twice (${first} and ${where})`)
      else rules.set(id, where)
    }
  }
  return { rules, duplicates }
}
