/**
 * FUZZ-1: hostile frames against the real relay process over loopback, both protocols,
 * before and after a valid HELLO, as anonymous, owner, editor and viewer (wire-fuzzer.ts).
 * The default run is bounded (about 20k frames, a few seconds, seeded: the seed is printed
 * and ORCHARD_SEED replays it); `pnpm test:fuzz` runs 1M frames (ORCHARD_FUZZ_FRAMES).
 */
import { describe, expect, it } from 'vitest'
import { FRAME_CLASSES, type FrameClass } from './generators.js'
import { leftOut } from './known-broken.js'
import { formatReport, runWireFuzz } from './wire-fuzzer.js'

const seed = Number(process.env.ORCHARD_SEED ?? Date.now() % 1_000_000_000)
const frames = Number(process.env.ORCHARD_FUZZ_FRAMES ?? 20_000)

describe('wire fuzzer', () => {
  it(`[FUZZ-1] ${frames} hostile frames (seed ${seed}): the relay never exits, offenders are closed, other clients' docs are intact`, async () => {
    // ORCHARD_FUZZ_INCLUDE=a,b puts some known-broken classes back (to check a fix, or find inputs to pin).
    const exclude = new Set<FrameClass>(FRAME_CLASSES.filter(leftOut))
    const report = await runWireFuzz({ seed, frames, concurrency: 8, maxFramesPerSession: 300, exclude, sessionTimeoutMs: 15_000, log: console.log })
    console.log(formatReport(report))
    const crash = report.crash
    const suspects = crash?.inFlight.map((s) => `session ${s.index} (${s.protocol}, ${s.principal}, hello ${s.hello}): ${[...new Set(s.frames.map((f) => f.cls))].join(' ')}`)
    expect(crash === null, crash ? `the relay died (${JSON.stringify(crash.exit)}); in flight:\n${suspects?.join('\n')}\ninputs: ${crash.file}\nrelay stderr:\n${crash.stderr.slice(-1500)}` : '').toBe(true)
    expect(report.relayExits).toBe(0)
    expect(report.sentinelIntact).toBe(true)
    expect(report.framesSent).toBeGreaterThanOrEqual(frames)
    // A session the relay ends gets a close code that tells the client what to do (44xx: do
    // not retry, 1013: try later), never a dropped connection (1006) or an internal error (1011).
    const unexpected = Object.keys(report.relayCloses).filter((code) => !/^(44\d\d|1000|1001|1013)$/.test(code))
    expect(unexpected, 'close codes the relay should not use for bad input').toEqual([])
    for (const cls of FRAME_CLASSES) if (!exclude.has(cls)) expect(report.framesByClass[cls] ?? 0, `frames of class ${cls}`).toBeGreaterThan(0)
  }, Math.max(600_000, frames * 5))
})
