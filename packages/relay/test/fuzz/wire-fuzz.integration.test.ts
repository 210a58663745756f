/**
 * FUZZ-1: hostile frames against the real relay process over loopback, both protocols,
 * before and after a valid HELLO, as anonymous, owner, editor and viewer (wire-fuzzer.ts).
 * The default run is bounded (about 20k frames, a few seconds, seeded: the seed is printed
 * and ORCHARD_SEED replays it); `pnpm test:fuzz` runs 1M frames (ORCHARD_FUZZ_FRAMES).
 */
import { describe, expect, it } from 'vitest'
import { FRAME_CLASSES, type FrameClass } from './generators.js'
import { formatReport, runWireFuzz } from './wire-fuzzer.js'

const seed = Number(process.env.ORCHARD_SEED ?? Date.now() % 1_000_000_000)
const frames = Number(process.env.ORCHARD_FUZZ_FRAMES ?? 20_000)

/**
 * Classes known to take the relay down on this branch, each with the issue-9 item that fixes
 * it; the default run leaves them out until the fix is merged, ORCHARD_FUZZ_ALL=1 puts them back.
 */
const KNOWN_BROKEN: ReadonlyMap<FrameClass, string> = new Map<FrameClass, string>([
  ['upgrade-path', 'item 1: a path that is not valid percent-encoding throws out of the upgrade handler (decodeURIComponent)'],
  ['sync-truncated-sv', 'item 2: a truncated state vector in sync step 1 makes Y.diffUpdate throw in the room'],
  ['sync-step1-mutated', 'item 2: the same, from a mutated state vector'],
  ['awareness-deep-json', 'item 2: deeply nested presence JSON overflows the stack in the presence broadcast'],
  ['update-deep-json', 'item 3: an update embedding deep JSON is stored, then crashes the relay at the next merge'],
  ['sync-mutated', 'item 3: a mutated update that decodes is stored and acked, then every client that syncs the doc throws applying it (the workspace is bricked for clients)']
])

describe('wire fuzzer', () => {
  it(`[FUZZ-1] ${frames} hostile frames (seed ${seed}): the relay never exits, offenders are closed, other clients' docs are intact`, async () => {
    const exclude = new Set<FrameClass>(process.env.ORCHARD_FUZZ_ALL ? [] : KNOWN_BROKEN.keys())
    const report = await runWireFuzz({ seed, frames, concurrency: 8, maxFramesPerSession: 300, exclude, sessionTimeoutMs: 15_000, log: console.log })
    console.log(formatReport(report))
    const crash = report.crash
    const suspects = crash?.inFlight.map((s) => `session ${s.index} (${s.protocol}, ${s.principal}, hello ${s.hello}): ${[...new Set(s.frames.map((f) => f.cls))].join(' ')}`)
    expect(crash === null, crash ? `the relay died (${JSON.stringify(crash.exit)}); in flight:\n${suspects?.join('\n')}\ninputs: ${crash.file}\nrelay stderr:\n${crash.stderr.slice(-1500)}` : '').toBe(true)
    expect(report.relayExits).toBe(0)
    expect(report.sentinelIntact).toBe(true)
    expect(report.framesSent).toBeGreaterThanOrEqual(frames)
    for (const cls of FRAME_CLASSES) if (!exclude.has(cls)) expect(report.framesByClass[cls] ?? 0, `frames of class ${cls}`).toBeGreaterThan(0)
  }, 600_000)
})
