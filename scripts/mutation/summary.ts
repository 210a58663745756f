/**
 * Reads Stryker's JSON report (reports/mutation/<package>.json) and prints, per module, the
 * mutation score (killed + timed out over all valid mutants) and every surviving or
 * uncovered mutant with its line and replacement: what TESTING.md records.
 * Usage: tsx scripts/mutation/summary.ts reports/mutation/protocol.json
 */
import { readFileSync } from 'node:fs'

interface Mutant {
  id: string
  mutatorName: string
  replacement?: string
  status: string
  location: { start: { line: number; column: number } }
}

const [path] = process.argv.slice(2)
if (!path) {
  console.error('usage: tsx scripts/mutation/summary.ts reports/mutation/<package>.json')
  process.exit(2)
}
const report = JSON.parse(readFileSync(path, 'utf8')) as { files: Record<string, { source: string; mutants: Mutant[] }> }
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const lines = source.split('\n')
  const count = (status: string) => mutants.filter((mutant) => mutant.status === status).length
  const detected = count('Killed') + count('Timeout')
  const undetected = count('Survived') + count('NoCoverage')
  const valid = detected + undetected
  const score = valid === 0 ? 100 : (100 * detected) / valid
  console.log(`## ${file}: ${score.toFixed(1)}% (${detected} of ${valid} detected: ${count('Killed')} killed, ${count('Timeout')} timed out; ${count('Survived')} survived, ${count('NoCoverage')} no coverage; ${count('CompileError')} did not compile)`)
  for (const mutant of mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage').sort((a, b) => a.location.start.line - b.location.start.line)) {
    const line = mutant.location.start.line
    const replacement = (mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80)
    console.log(`- ${mutant.status} L${line} ${mutant.mutatorName}: \`${replacement}\` in \`${(lines[line - 1] ?? '').trim().slice(0, 100)}\``)
  }
}
