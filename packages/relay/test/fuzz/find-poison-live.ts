/**
 * Finds the session of a wire-fuzz run after which the stored workspace doc can no longer be
 * read by a fresh client ("other clients' docs are NOT intact" with the relay still up):
 * runs the run's sessions one at a time against one relay, reading the sentinel after each.
 * Then find-poison-frame.ts narrows that session to one frame.
 *
 *   npx tsx packages/relay/test/fuzz/find-poison-live.ts <seed>
 */
import fc from 'fast-check'
import { sessionArbitrary, hex } from './generators.js'
import { runSession, sessionSeed, startFuzzTarget } from './wire-fuzzer.js'
const seed = Number(process.argv[2] ?? 417631688)
const arbitrary = sessionArbitrary({ exclude: new Set(), maxFrames: 300 })
const target = await startFuzzTarget()
let frames = 0
try {
  for (let index = 0; index < 5000 && frames < 1_000_000; index++) {
    const s = fc.sample(arbitrary, { numRuns: 1, seed: sessionSeed(seed, index) })[0]!
    const out = await runSession(s, index, target.principals, 15000)
    frames += out.sent
    const err = await target.readSentinel().then(() => null, (e: Error) => e.message)
    if (err) {
      console.log(`POISON after session ${index} ${s.protocol} ${s.principal} ${s.hello} sent ${out.sent}: ${err}`)
      console.log(JSON.stringify({ ...s, frames: s.frames.map((f) => ({ cls: f.cls, hex: hex(f.bytes) })) }))
      break
    }
  }
  console.log('done', frames)
} finally { await target.close() }
