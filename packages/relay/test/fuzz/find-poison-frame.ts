/**
 * Narrows a session that poisons the stored doc (find-poison-live.ts) to its shortest
 * poisoning prefix, each try on a fresh relay, and says whether its last frame does it alone.
 *
 *   npx tsx packages/relay/test/fuzz/find-poison-frame.ts <seed> <session index>
 */
import fc from 'fast-check'
import { sessionArbitrary, hex, type Session } from './generators.js'
import { runSession, sessionSeed, startFuzzTarget } from './wire-fuzzer.js'
const seed = Number(process.argv[2] ?? 417631688)
const index = Number(process.argv[3] ?? 48)
const arbitrary = sessionArbitrary({ exclude: new Set(), maxFrames: 300 })
const s = fc.sample(arbitrary, { numRuns: 1, seed: sessionSeed(seed, index) })[0]!
async function poisons(frames: Session['frames']): Promise<boolean> {
  const target = await startFuzzTarget()
  try {
    await runSession({ ...s, frames }, index, target.principals, 15000)
    return await target.readSentinel().then(() => false, () => true)
  } finally { await target.close() }
}
console.log('whole alone:', await poisons(s.frames))
// shortest poisoning prefix
let lo = 0, hi = s.frames.length
while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (await poisons(s.frames.slice(0, mid))) hi = mid; else lo = mid }
const last = s.frames[hi - 1]!
console.log(`prefix ${hi} poisons; last frame ${hi - 1} ${last.cls} ${hex(last.bytes)}`)
console.log('last alone:', await poisons([last]))
