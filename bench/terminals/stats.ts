// Small helpers: a seeded PRNG, order statistics, number formats and markdown tables.
export type Rng = () => number
export { median, rng, table } from '../stats.js'

/** Linear-interpolated quantile (q in [0, 1]); NaN for no values. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low)
}

export const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1)
export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a')
export const pct = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(0)}%` : 'n/a')
