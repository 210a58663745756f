/**
 * Property-test budget. Defaults keep `vitest run` fast; ORCHARD_FUZZ_RUNS raises the run
 * count (test:extensive) and ORCHARD_SEED replays a failure. fast-check prints the seed and
 * counterexample when a property fails; repeat it with
 *   ORCHARD_SEED=<seed> npx vitest run packages/protocol -t '<rule id>'
 * The generator is xoroshiro128+, per the style guide's "one real seeded PRNG".
 */
import type { Parameters } from 'fast-check'

function envInt(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`)
  return n
}

export function fuzzParams<T>(defaultRuns: number): Parameters<T> {
  const runs = envInt('ORCHARD_FUZZ_RUNS')
  const seed = envInt('ORCHARD_SEED')
  const params: Parameters<T> = { numRuns: runs ?? defaultRuns, randomType: 'xoroshiro128plus' }
  if (seed !== undefined) params.seed = seed
  return params
}
