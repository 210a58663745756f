/**
 * Applies, one at a time, the mutants a Stryker run left alive (Survived / NoCoverage in
 * reports/mutation/<package>.json) to the real source file, runs the named test files on
 * each (vitest.mutation.config.ts: no build step, sources only) and restores the file:
 * the "by hand" check TESTING.md reports, without Stryker's hour-long sandbox run. Use it
 * after writing tests for survivors, to see which the new tests kill. It edits this checkout's
 * file while it runs: run no other tests here meanwhile, or they see the mutant.
 *
 * The source may have changed since the report: each mutant is found again by its line's
 * text and a neighbouring line (relocate below), and skipped, not guessed, when that line is
 * gone.
 *
 * Usage: tsx scripts/mutation/check-by-hand.ts --report reports/mutation/workspace.json \
 *   --file packages/workspace/src/PearStore.ts --lines 1-349 \
 *   --tests packages/workspace/src/PearStore.test.ts,packages/workspace/test/x.test.ts \
 *   [--package workspace] [--out reports/by-hand.json] [--status Survived,NoCoverage]
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface Position {
  line: number
  column: number
}
interface Mutant {
  id: string
  mutatorName: string
  replacement?: string
  status: string
  location: { start: Position; end: Position }
}
export interface Verdict {
  id: string
  line: number
  mutator: string
  replacement: string
  result: 'killed' | 'survived' | 'moved'
}

const { values } = parseArgs({
  options: {
    report: { type: 'string' },
    file: { type: 'string' },
    lines: { type: 'string', default: '1-999999' },
    tests: { type: 'string' },
    package: { type: 'string', default: 'workspace' },
    out: { type: 'string' },
    timeout: { type: 'string', default: '120' },
    // Killed, to see that the check detects what Stryker detected (a check of the check).
    status: { type: 'string', default: 'Survived,NoCoverage' }
  }
})
if (!values.report || !values.file || !values.tests) {
  console.error('usage: tsx scripts/mutation/check-by-hand.ts --report <stryker json> --file <source> --tests <a.test.ts,b.test.ts> [--lines 1-200] [--package workspace] [--out <json>]')
  process.exit(2)
}
const [from, to] = values.lines.split('-').map(Number)
if (!Number.isInteger(from) || !Number.isInteger(to)) {
  console.error(`--lines must look like 120-340; got ${values.lines}`)
  process.exit(2)
}
const report = JSON.parse(readFileSync(values.report, 'utf8')) as { files: Record<string, { source: string; mutants: Mutant[] }> }
const entry = report.files[values.file]
if (!entry) {
  console.error(`${values.report} has no mutants for ${values.file}; it has: ${Object.keys(report.files).join(', ')}`)
  process.exit(2)
}
const original = readFileSync(values.file, 'utf8')
const restore = () => writeFileSync(values.file!, original)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    restore()
    process.exit(130)
  })
}

const oldLines = entry.source.split('\n')
const newLines = original.split('\n')
/**
 * The current line (1-based) that is the report's line: the same text with the same line
 * before or after it (a line's text alone is not enough: `}` or `const file = ...` recur, and
 * a mutant whose line was removed must not be applied to a look-alike elsewhere), nearest
 * to where it was. Undefined when the line is gone.
 */
function relocate(line: number): number | undefined {
  const text = oldLines[line - 1]
  const before = oldLines[line - 2]
  const after = oldLines[line]
  let best: number | undefined
  for (let i = 0; i < newLines.length; i++) {
    if (newLines[i] !== text) continue
    if (newLines[i - 1] !== before && newLines[i + 1] !== after) continue
    if (best === undefined || Math.abs(i + 1 - line) < Math.abs(best - line)) best = i + 1
  }
  return best
}

/** The source with one mutant applied: its range (relocated by the line shift) replaced. */
function mutate(mutant: Mutant): string | undefined {
  const { start, end } = mutant.location
  const startAt = relocate(start.line)
  const endAt = relocate(end.line)
  if (startAt === undefined || endAt === undefined || endAt - startAt !== end.line - start.line) return undefined
  const lines = [...newLines]
  const head = lines[startAt - 1]!.slice(0, start.column - 1)
  const tail = lines[endAt - 1]!.slice(end.column - 1)
  lines.splice(startAt - 1, endAt - startAt + 1, head + (mutant.replacement ?? '') + tail)
  return lines.join('\n')
}

const statuses = values.status.split(',')
const alive = entry.mutants
  .filter((m) => statuses.includes(m.status) && m.location.start.line >= from! && m.location.start.line <= to!)
  .sort((a, b) => a.location.start.line - b.location.start.line)
const verdicts: Verdict[] = []
try {
  for (const mutant of alive) {
    const verdict: Verdict = {
      id: mutant.id,
      line: mutant.location.start.line,
      mutator: mutant.mutatorName,
      replacement: (mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80),
      result: 'moved'
    }
    const mutated = mutate(mutant)
    if (mutated !== undefined) {
      writeFileSync(values.file, mutated)
      const run = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.mutation.config.ts', '--bail', '1', '--reporter', 'dot', ...values.tests.split(',')], {
        env: { ...process.env, MUTATION_PACKAGE: values.package },
        stdio: 'ignore',
        timeout: Number(values.timeout) * 1000
      })
      // A run that times out or crashes under the mutant detects it, as Stryker counts it.
      verdict.result = run.status === 0 ? 'survived' : 'killed'
      restore()
    }
    verdicts.push(verdict)
    console.log(`${verdict.result.padEnd(8)} #${verdict.id} L${verdict.line} ${verdict.mutator}: \`${verdict.replacement}\``)
  }
} finally {
  restore()
}
const count = (result: Verdict['result']) => verdicts.filter((v) => v.result === result).length
console.log(`\n${alive.length} mutants (${values.status}) in ${values.file}:${from}-${to}: ${count('killed')} killed now, ${count('survived')} still survive, ${count('moved')} not applied (their line changed)`)
if (values.out) writeFileSync(values.out, JSON.stringify(verdicts, null, 2))
