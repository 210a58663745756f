/**
 * bench/workspace: Orchard's PearStore against Pear's own projects.json store, in one run,
 * at 100, 1,000 and 10,000 projects.
 *
 *   npx tsx bench/workspace/run.ts [--quick] [--seed N]
 *
 * --quick runs 100 and 1,000 only. The seed (default ORCHARD_SEED, else a fixed one) picks
 * the projects and the targets; the report prints it. Progress goes to stderr; stdout is
 * markdown for bench/RESULTS.md.
 *
 * Pear's way (pear-way.ts): every call reads, parses and validates the whole file, then
 * writes the whole file. Orchard (createPearStore): every call is a small in-memory Yjs
 * edit and the file is written by a debounced save; it is timed twice, the call alone
 * ("op") and the call followed by `await store.flush()` ("op + flush"), which makes the
 * change durable (lock, merge check, render, temp file, fsync, rename, fsync dir).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import {
  createPearStore,
  type PearStore,
  type Project,
  type ProjectRoot,
  type StoreLogger
} from '../../packages/workspace/src/index.js'
import { orchardBreakdown, type Step } from './breakdown.js'
import { OP_CASES, newRunState, type RunState } from './cases.js'
import { makeStoreData } from './dataset.js'
import { collectGarbage, compare, measure, type RepPlan, type Timing } from './measure.js'
import { createPearWayStore, pearRender } from './pear-way.js'
import { Prng } from './prng.js'
import { bytes, count, cpuModel, ms, ratio, table } from './report.js'

const SAVE_DELAY_MS = 50
const GOAL_SPEEDUP = 10
const GOAL_SIZE_RATIO = 1.5
const GOAL_SIZE = 10_000
const BURST = 100
const DEFAULT_SEED = 20261001

interface Options {
  quick: boolean
  seed: number
  sizes: number[]
  /** A short pass to warm the JIT first; its numbers are thrown away. */
  warmupSize: number
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: process.env.ORCHARD_SEED ?? String(DEFAULT_SEED) }
    }
  })
  const seed = Number(values.seed)
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed takes a non-negative integer; got ${values.seed}. Usage: npx tsx bench/workspace/run.ts [--quick] [--seed N]`)
  const quick = values.quick
  return { quick, seed, sizes: quick ? [100, 1_000] : [100, 1_000, 10_000], warmupSize: 200 }
}

/** Repetitions: slow runs stop once their budget is spent, but never below minReps. */
function plans(size: number, warmingUp: boolean): { slow: RepPlan; fast: RepPlan } {
  if (warmingUp) {
    const short = { warmup: 0, minReps: 3, maxReps: 20, budgetMs: 50 }
    return { slow: short, fast: short }
  }
  return {
    // Pear's way, Orchard op + flush, loads from disk: a whole-file read or write each.
    slow: { warmup: 1, minReps: size >= 10_000 ? 7 : 9, maxReps: 25, budgetMs: 800 },
    // Orchard's synchronous calls (microseconds, except the whole-store ones).
    fast: { warmup: 5, minReps: 9, maxReps: 400, budgetMs: 500 }
  }
}

/** A removal can run only as often as its add left something to remove. */
function capped(plan: RepPlan, available: number | undefined): RepPlan {
  if (available === undefined) return plan
  const maxReps = Math.min(plan.maxReps, available - plan.warmup)
  if (maxReps < 1) throw new Error(`bench: only ${available} items to remove`)
  return { ...plan, maxReps, minReps: Math.min(plan.minReps, maxReps) }
}

interface OpRow {
  name: string
  size: number
  pear: Timing
  op: Timing
  opFlush: Timing
}

interface DiskRow {
  name: string
  size: number
  pear: Timing
  ours: Timing
  /** What each side does, for the table. */
  pearSide: string
  oursSide: string
}

interface SizeRow {
  size: number
  when: string
  plain: number
  ours: number
}

interface SizeResult {
  size: number
  plainBytes: number
  migrateMs: number
  ops: OpRow[]
  disk: DiskRow[]
  files: SizeRow[]
  breakdown: Step[]
}

const problems: string[] = []
const logger: StoreLogger = {
  warn: (message) => problems.push(message),
  error: (message) => problems.push(message)
}

function progress(message: string): void {
  process.stderr.write(`[bench/workspace] ${message}\n`)
}

async function benchSize(size: number, seed: number, root: string, warmingUp: boolean): Promise<SizeResult> {
  const dir = join(root, `n${size}`)
  const { slow, fast } = plans(size, warmingUp)
  const data = makeStoreData(new Prng(seed), size)
  const plainText = pearRender(data)
  const plainBytes = Buffer.byteLength(plainText)

  // The same targets, in the same order, for every run.
  const pick = new Prng(seed ^ 0x5eed)
  const targetProjects = Array.from({ length: 512 }, () => data.projects[pick.int(size)] as Project)
  const targets = targetProjects.map((project) => project.id)
  const targetPaths = targetProjects.map((project) => (project.roots.at(-1) as ProjectRoot).path)

  // Pear's file, and Orchard's: the same plain file, opened once by Orchard as a session
  // opens it (into the workspace doc it syncs: the legacy file is imported whole and saved
  // with its replica; a store opened on its own only reads it, FILE-14), then reopened as
  // Pear would at its next start.
  mkdirFresh(dir)
  const pearFile = join(dir, 'pear', 'projects.json')
  const oursFile = join(dir, 'orchard', 'projects.json')
  writeFileSync(pearFile, plainText)
  writeFileSync(oursFile, plainText)
  // New ids come from seeded streams too (Pear and Orchard would call crypto.randomUUID()).
  const pearIds = new Prng(seed ^ 0x1d5)
  const oursIds = new Prng(seed ^ 0x1d5)
  const newId = (): string => oursIds.uuid()
  const pear = createPearWayStore(pearFile, () => pearIds.uuid())
  const t0 = performance.now()
  const migrating = createPearStore({ file: oursFile, saveDelayMs: SAVE_DELAY_MS, logger, newId, doc: new Y.Doc({ guid: `bench-${seed}` }) })
  await migrating.flush()
  if (!readFileSync(oursFile, 'utf8').includes('"orchard"')) throw new Error('bench: opening the Pear file did not write Orchard\'s replica into it')
  const migrateMs = performance.now() - t0
  await migrating.close()
  const oursBytesFresh = statSync(oursFile).size
  const loadCopy = join(dir, 'orchard-load', 'projects.json')
  copyFileSync(oursFile, loadCopy)
  const ours: PearStore = createPearStore({ file: oursFile, saveDelayMs: SAVE_DELAY_MS, logger, newId })
  if (ours.loadStore().projects.length !== size) throw new Error('bench: Orchard did not import every project')

  // Loading and saving, on the files as imported (before the edits below add history).
  let edits = 0 // calls that changed Orchard's store, for the file-size row
  const disk: DiskRow[] = []
  collectGarbage()
  let opened: PearStore | undefined
  const [pearLoad, oursOpen] = (await compare(slow, [
    { run: () => void pear.loadStore() },
    {
      run: () => {
        opened = createPearStore({ file: loadCopy, saveDelayMs: SAVE_DELAY_MS, logger })
        opened.loadStore()
      },
      after: () => opened?.close()
    }
  ])) as [Timing, Timing]
  const oursLoad = await measure(fast, () => void ours.loadStore())
  disk.push({
    name: 'loadStore',
    size,
    pear: pearLoad,
    ours: oursLoad,
    pearSide: 'no in-memory copy: read + parse + schema',
    oursSide: 'in memory: view of the doc, cloned'
  })

  collectGarbage()
  const pearData = pear.loadStore()
  const [pearSave, oursSave] = (await compare(slow, [
    { run: () => pear.saveStore(pearData) },
    {
      run: () => ours.flush(),
      before: (rep) => {
        ours.setActiveProject(targets[rep % targets.length] as string)
        edits++
      }
    }
  ])) as [Timing, Timing]
  disk.push({
    name: 'save to disk',
    size,
    pear: pearSave,
    ours: oursSave,
    pearSide: 'stringify + write tmp + rename',
    oursSide: '`await flush()` after one setActiveProject (untimed)'
  })
  disk.push({
    name: 'load from disk',
    size,
    pear: pearLoad,
    ours: oursOpen,
    pearSide: 'same as loadStore',
    oursSide: '`createPearStore({ file })` on an Orchard file + loadStore()'
  })

  let breakdown: Step[] = []
  if (!warmingUp) {
    collectGarbage()
    const fresh = createPearStore({ file: loadCopy, saveDelayMs: SAVE_DELAY_MS, logger })
    breakdown = await orchardBreakdown(fresh, dir, { warmup: 1, minReps: 3, maxReps: 9, budgetMs: 300 })
    await fresh.close()
  }

  const states = {
    pear: newRunState('pear', targets, targetPaths),
    op: newRunState('op', targets, targetPaths),
    flush: newRunState('flush', targets, targetPaths)
  }

  const ops: OpRow[] = []
  for (const op of OP_CASES) {
    collectGarbage()
    // Pear's way and Orchard op + flush in turns; then Orchard's synchronous call alone.
    const available = op.available && Math.min(op.available(states.pear), op.available(states.flush))
    const [pearTiming, flushTiming] = (await compare(capped(slow, available), [
      { run: (rep) => op.run(pear, rep, states.pear) },
      {
        run: async (rep) => {
          op.run(ours, rep, states.flush)
          if (!op.readOnly) edits++
          await ours.flush()
        }
      }
    ])) as [Timing, Timing]
    collectGarbage()
    const opTiming = await measure(capped(fast, op.available?.(states.op)), (rep) => {
      op.run(ours, rep, states.op)
      if (!op.readOnly) edits++
    })
    await ours.flush() // untimed: nothing stays pending into the next case
    ops.push({ name: op.name, size, pear: pearTiming, op: opTiming, opFlush: flushTiming })
    if (!warmingUp) {
      progress(
        `${count(size)} ${op.name}: Pear ${ms(pearTiming.median)} ms, Orchard op ${ms(opTiming.median)} ms, ` +
          `op + flush ${ms(flushTiming.median)} ms`
      )
    }
  }

  // Debouncing at work: a burst of renames shares one save.
  collectGarbage()
  const burst = await measure({ ...slow, minReps: 5, maxReps: 15 }, async (rep) => {
    for (let i = 0; i < BURST; i++) ours.updateProject(targets[(rep * BURST + i) % targets.length] as string, { name: `Burst ${rep} ${i}` })
    edits += BURST
    await ours.flush()
  })
  const perRename = { median: burst.median / BURST, reps: burst.reps }
  const pearRename = ops.find((row) => row.name.startsWith('updateProject'))!.pear
  disk.push({
    name: `${BURST} renames + 1 flush, per rename`,
    size,
    pear: pearRename,
    ours: perRename,
    pearSide: 'one whole-file save per rename',
    oursSide: `${BURST} updateProject calls, then one \`await flush()\``
  })

  // Sanity: everything done above is in memory and on disk, nothing lost.
  const expected = (state: RunState): number => size + state.addedProjects.length - state.removedProjects
  const pearCount = pear.loadStore().projects.length
  if (pearCount !== expected(states.pear)) throw new Error(`bench: Pear's way has ${pearCount} projects, expected ${expected(states.pear)}`)
  const oursView = ours.loadStore()
  const oursExpected = size + [states.op, states.flush].reduce((sum, state) => sum + state.addedProjects.length - state.removedProjects, 0)
  if (oursView.projects.length !== oursExpected) throw new Error(`bench: Orchard has ${oursView.projects.length} projects, expected ${oursExpected}`)
  await ours.close()
  const reopened = createPearStore({ file: oursFile, logger })
  if (JSON.stringify(reopened.loadStore()) !== JSON.stringify(oursView)) throw new Error('bench: the Orchard file does not hold what the store showed')
  await reopened.close()

  const files: SizeRow[] = [
    { size, when: 'as imported', plain: plainBytes, ours: oursBytesFresh },
    {
      size,
      when: `after the ${count(edits)} edits above`,
      plain: Buffer.byteLength(pearRender(oursView)),
      ours: statSync(oursFile).size
    }
  ]
  return { size, plainBytes, migrateMs, ops, disk, files, breakdown }
}

function mkdirFresh(dir: string): void {
  for (const sub of ['pear', 'orchard', 'orchard-load']) mkdirSync(join(dir, sub), { recursive: true })
}

function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'MISS'
}

function render(options: Options, results: SizeResult[], command: string, totalSeconds: number, load: { start: number; end: number }): string {
  const out: string[] = []
  out.push('## Workspace store: Orchard vs Pear\'s projects.json (bench/workspace)')
  out.push('')
  out.push(`- Date: ${new Date().toISOString()}`)
  out.push(`- Command: \`${command}\` (${totalSeconds.toFixed(0)} s)`)
  out.push(`- Machine: ${cpuModel()}, ${cpus().length} cores, Node ${process.version}, ${process.platform}; temp files in ${tmpdir()}`)
  out.push(
    `- Load average (1 min) at start ${load.start.toFixed(2)}, at end ${load.end.toFixed(2)}` +
      (Math.max(load.start, load.end) > cpus().length / 2 ? ' — other processes were busy; expect noise' : '')
  )
  out.push(
    `- Seed: ${options.seed} (repeat: \`ORCHARD_SEED=${options.seed} ${command}\`). Inputs: ` +
      results.map((r) => `${count(r.size)} projects (${bytes(r.plainBytes)} B plain JSON)`).join(', ')
  )
  out.push(
    '- Pear = Pear\'s store.ts way (bench/workspace/pear-way.ts): every call is readFileSync + JSON.parse + Pear\'s zod ' +
      'schema over the whole file (StoreDataSchema around pear-rules.ts ProjectSchema), the change, then ' +
      'JSON.stringify(data, null, 2) + writeFileSync(tmp) + renameSync (no fsync).'
  )
  out.push(
    `- Orchard = \`createPearStore({ file, saveDelayMs: ${SAVE_DELAY_MS} })\`. "op" is the synchronous call alone ` +
      '(an in-memory Yjs edit; the file is written later by a debounced save). "op + flush" is the call followed by ' +
      '`await store.flush()`, i.e. until the change is on disk (lock, merge check, render, temp file, fsync, rename, fsync dir). ' +
      'Pear\'s number always includes its write; compare it with "op + flush" for durability, with "op" for what the caller waits for.'
  )
  out.push(
    '- Times are medians in ms; reps = repetitions per column (Pear/op/op+flush), after warm-up. Pear and Orchard ' +
      'op+flush (and each Pear/Orchard pair under "Loading and saving") run in turns, A B A B, so a change in machine ' +
      'load hits both. Ratio = Pear ms / Orchard ms (above 1: Orchard faster).'
  )
  out.push('')

  out.push('### Store operations')
  out.push('')
  const goalAt = (size: number): boolean => size === GOAL_SIZE
  const opRows = results.flatMap((r) =>
    r.ops.map((row) => {
      const opRatio = row.pear.median / row.op.median
      const flushRatio = row.pear.median / row.opFlush.median
      return [
        row.name,
        count(row.size),
        ms(row.pear.median),
        ms(row.op.median),
        ms(row.opFlush.median),
        ratio(row.pear.median, row.op.median),
        ratio(row.pear.median, row.opFlush.median),
        goalAt(row.size) ? verdict(opRatio >= GOAL_SPEEDUP) : '—',
        goalAt(row.size) ? verdict(flushRatio >= GOAL_SPEEDUP) : '—',
        `${row.pear.reps}/${row.op.reps}/${row.opFlush.reps}`
      ]
    })
  )
  out.push(
    table(
      ['op', 'size', 'Pear ms', 'Orchard op ms', 'Orchard op+flush ms', 'ratio (op)', 'ratio (op+flush)', `≥${GOAL_SPEEDUP}x (op)`, `≥${GOAL_SPEEDUP}x (op+flush)`, 'reps'],
      opRows
    )
  )
  out.push('')

  out.push('### Loading and saving')
  out.push('')
  out.push('Measured on the files as imported, before the edits above add history (the burst row runs last).')
  out.push('')
  out.push(
    table(
      ['what', 'size', 'Pear ms', 'Orchard ms', 'ratio', 'Pear side', 'Orchard side', 'reps'],
      results.flatMap((r) =>
        r.disk.map((row) => [
          row.name,
          count(row.size),
          ms(row.pear.median),
          ms(row.ours.median),
          ratio(row.pear.median, row.ours.median),
          row.pearSide,
          row.oursSide,
          `${row.pear.reps}/${row.ours.reps}`
        ])
      )
    )
  )
  out.push('')
  out.push(
    'One-time migration (first open of a legacy Pear file + flush, one run): ' +
      results.map((r) => `${count(r.size)}: ${ms(r.migrateMs)} ms`).join(', ') +
      '.'
  )
  out.push('')

  out.push('### File size')
  out.push('')
  out.push(
    table(
      ['size', 'when', 'Pear plain JSON B', 'Orchard file B', 'Orchard / plain', `≤${GOAL_SIZE_RATIO}x`],
      results.flatMap((r) =>
        r.files.map((row) => {
          const sizeRatio = row.ours / row.plain
          return [count(row.size), row.when, bytes(row.plain), bytes(row.ours), `${sizeRatio.toFixed(2)}x`, verdict(sizeRatio <= GOAL_SIZE_RATIO)]
        })
      )
    )
  )
  out.push('')
  out.push('"Pear plain JSON" is the same projects written as Pear writes them (JSON.stringify(data, null, 2)).')
  out.push('')

  out.push('### Where an Orchard save and load spend their time')
  out.push('')
  out.push('Each step timed alone (median ms) with the library calls PearStore uses, on the file as imported; sizes in bytes.')
  out.push('')
  const stepNames = results[0]?.breakdown.map((step) => step.name) ?? []
  out.push(
    table(
      ['step', ...results.map((r) => `${count(r.size)} projects`)],
      stepNames.map((name) => [
        name,
        ...results.map((r) => {
          const step = r.breakdown.find((entry) => entry.name === name)
          if (!step) return ''
          return step.unit === 'B' ? bytes(step.value) : ms(step.value)
        })
      ])
    )
  )
  out.push('')

  out.push('### Goals')
  out.push('')
  const atGoal = results.find((r) => r.size === GOAL_SIZE)
  if (!atGoal) {
    out.push(`- ≥${GOAL_SPEEDUP}x per operation is judged at ${count(GOAL_SIZE)} projects; this run (--quick) did not reach it.`)
  } else {
    for (const [label, pick] of [
      ['op', (row: OpRow) => row.op],
      ['op + flush', (row: OpRow) => row.opFlush]
    ] as const) {
      const misses = atGoal.ops.filter((row) => row.pear.median / pick(row).median < GOAL_SPEEDUP)
      out.push(
        `- ≥${GOAL_SPEEDUP}x faster than Pear at ${count(GOAL_SIZE)} projects, ${label}: ` +
          `${atGoal.ops.length - misses.length}/${atGoal.ops.length} PASS` +
          (misses.length > 0 ? `; MISS: ${misses.map((row) => `${row.name} (${ratio(row.pear.median, pick(row).median)})`).join(', ')}` : '')
      )
    }
  }
  for (const [label, pick] of [
    ['as imported', (r: SizeResult) => r.files[0] as SizeRow],
    ['after the bench\'s edits (history kept in the replica)', (r: SizeResult) => r.files[1] as SizeRow]
  ] as const) {
    const rows = results.map(pick)
    const misses = rows.filter((row) => row.ours / row.plain > GOAL_SIZE_RATIO)
    out.push(
      `- File ≤${GOAL_SIZE_RATIO}x the plain JSON, ${label}: ${rows.length - misses.length}/${rows.length} PASS` +
        (misses.length > 0 ? `; MISS: ${misses.map((row) => `${count(row.size)} projects (${(row.ours / row.plain).toFixed(2)}x)`).join(', ')}` : '')
    )
  }
  if (problems.length > 0) {
    out.push('')
    out.push(`Store problems reported during the run (${problems.length}): ${problems.slice(0, 3).join(' / ')}`)
  }
  return out.join('\n')
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const command = `npx tsx bench/workspace/run.ts${options.quick ? ' --quick' : ''}`
  const root = mkdtempSync(join(tmpdir(), 'orchard-bench-workspace-'))
  const cleanup = (): void => rmSync(root, { recursive: true, force: true })
  process.once('SIGINT', () => {
    cleanup()
    process.exit(130)
  })
  const started = performance.now()
  const loadAtStart = loadavg()[0] as number
  try {
    progress(`seed ${options.seed}; sizes ${options.sizes.join(', ')}; warming up at ${options.warmupSize} projects`)
    await benchSize(options.warmupSize, options.seed, root, true)
    problems.length = 0
    const results: SizeResult[] = []
    for (const size of options.sizes) {
      progress(`${count(size)} projects`)
      results.push(await benchSize(size, options.seed, root, false))
    }
    const load = { start: loadAtStart, end: loadavg()[0] as number }
    process.stdout.write(render(options, results, command, (performance.now() - started) / 1000, load) + '\n')
  } finally {
    cleanup()
  }
}

await main()
