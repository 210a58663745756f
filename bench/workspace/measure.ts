/**
 * Timing: each repetition is timed on its own with performance.now() and the median is
 * reported. Repetitions stop at `maxReps`, or once `budgetMs` is spent and `minReps` are
 * done, so slow baselines at 10,000 projects get fewer (but never fewer than minReps).
 * A synchronous body is called without any await, so no timer (such as the store's
 * debounced save) can run inside a measured loop.
 *
 * `compare` runs several bodies in turns (A, B, A, B, ...), so a change in machine load
 * during the run hits all of them alike and their ratio stays fair.
 */
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { median } from '../stats.js'

export interface RepPlan {
  /** Warm-up repetitions (fewer if they use up a fifth of the budget). */
  warmup: number
  minReps: number
  maxReps: number
  /** Per body: `compare` with two bodies may spend twice this. */
  budgetMs: number
}

export interface Timing {
  median: number
  reps: number
}

type Step = (rep: number) => void | Promise<void>

export interface Body {
  run: Step
  /** Untimed, before each repetition (warm-ups included). */
  before?: Step
  /** Untimed, after each repetition (warm-ups included). */
  after?: Step
}

export async function measure(plan: RepPlan, run: Step, hooks: Omit<Body, 'run'> = {}): Promise<Timing> {
  const [timing] = await compare(plan, [{ run, ...hooks }])
  return timing as Timing
}

export async function compare(plan: RepPlan, bodies: readonly Body[]): Promise<Timing[]> {
  if (plan.maxReps < 1) throw new Error('measure: nothing to run (maxReps < 1)')
  const samples: number[][] = bodies.map(() => [])
  const budget = plan.budgetMs * bodies.length
  const started = performance.now()
  let warmup = plan.warmup
  for (let rep = 0; ; rep++) {
    for (const [index, body] of bodies.entries()) {
      const before = body.before?.(rep)
      if (before) await before
      const t0 = performance.now()
      const pending = body.run(rep)
      if (pending) await pending
      const elapsed = performance.now() - t0
      const after = body.after?.(rep)
      if (after) await after
      if (rep >= warmup) (samples[index] as number[]).push(elapsed)
    }
    if (rep < warmup) {
      if (performance.now() - started > budget / 5) warmup = rep + 1
      continue
    }
    const done = rep + 1 - warmup
    if (done >= plan.maxReps) break
    if (done >= plan.minReps && performance.now() - started > budget) break
  }
  return samples.map((values) => ({ median: median(values), reps: values.length }))
}

export { median }

/**
 * A full collection between measurements, so one run's garbage is not collected inside
 * the next. Exposes V8's gc() without asking for `node --expose-gc`.
 */
export const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
})()
