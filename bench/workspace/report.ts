/** Markdown output for bench/RESULTS.md: tables, the machine, and number formatting. */
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { table } from '../stats.js'

export { table }

export function ms(value: number): string {
  if (value < 0.1) return value.toFixed(4)
  if (value < 1) return value.toFixed(3)
  if (value < 10) return value.toFixed(2)
  return value.toFixed(1)
}

/** How many times faster `ours` is than `theirs` (below 1: slower). */
export function ratio(theirs: number, ours: number): string {
  const r = theirs / ours
  if (r >= 100) return `${Math.round(r).toLocaleString('en-US')}x`
  if (r >= 10) return `${r.toFixed(0)}x`
  return `${r.toFixed(r >= 1 ? 1 : 2)}x`
}

export function bytes(value: number): string {
  return value.toLocaleString('en-US')
}

export function count(value: number): string {
  return value.toLocaleString('en-US')
}

export function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'))
    if (line) return line.slice(line.indexOf(':') + 1).trim()
  } catch {
    /* not Linux */
  }
  return cpus()[0]?.model ?? 'unknown'
}
