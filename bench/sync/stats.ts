export { median, rng, table } from '../stats.js'

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)))
  return s[rank - 1]!
}

export function min(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : Math.min(...xs)
}

export function max(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : Math.max(...xs)
}

/** Fixed-ish significant digits: 1234 -> "1234", 12.34 -> "12.3", 0.01234 -> "0.0123". */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–'
  if (!Number.isFinite(x)) return '∞'
  const a = Math.abs(x)
  if (a >= 10 ** digits || a === 0) return Math.round(x).toString()
  const d = Math.max(0, digits - 1 - Math.floor(Math.log10(a)))
  return x.toFixed(Math.min(d, 6))
}

export function ratio(x: number | null | undefined, base: number | null | undefined): string {
  if (x === null || x === undefined || base === null || base === undefined || !Number.isFinite(x) || !Number.isFinite(base) || base <= 0) return '–'
  return `${fmt(x / base)}×`
}

export function mb(bytes: number | null | undefined): number | null {
  return bytes === null || bytes === undefined ? null : bytes / (1024 * 1024)
}

export function kb(bytes: number | null | undefined): number | null {
  return bytes === null || bytes === undefined ? null : bytes / 1024
}
