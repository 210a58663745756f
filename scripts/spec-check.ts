/**
 * Checks SPEC citations both ways: every rule in a packages/<name>/SPEC.md is cited by at
 * least one test that runs ("[RULE-1] ..." in its title), and every rule a test cites exists.
 * Rules are written `- **RULE-1** text`; a test cites one as `it('[RULE-1] ...')`.
 * Citations come from vitest's own list of tests, not from the text of test files: a rule
 * named only in a comment or by a skipped or todo test is uncited.
 *
 * Usage: tsx scripts/spec-check.ts [--root <dir>] (default: this repo; its vitest.config.ts).
 */
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { check } from './spec-check/citations.js'
import { listTests } from './spec-check/collect.js'
import { readRules } from './spec-check/rules.js'

const { values } = parseArgs({ options: { root: { type: 'string' } } })
const root = resolve(values.root ?? new URL('..', import.meta.url).pathname)

const { rules, duplicates } = readRules(root)
const tests = await listTests(root, join(root, 'vitest.config.ts'))
const result = check(rules, duplicates, tests)
for (const problem of result.problems) console.error(`spec-check: ${problem}`)
if (result.problems.length > 0) process.exitCode = 1
else console.log(`spec-check: ${result.ruleCount} rules, all cited by ${tests.length} listed tests; ${result.citationCount} citations, all defined`)
