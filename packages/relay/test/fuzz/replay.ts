/**
 * Finds the input that took the relay down in a wire-fuzz run, for pinning as a regression
 * test: replays each session that was in flight (from the crash file the run wrote) alone
 * against a fresh relay, then each frame of the guilty session alone.
 *
 *   npx tsx packages/relay/test/fuzz/replay.ts /tmp/orchard-fuzz-crash-<seed>-<n>.json
 */
import { readFileSync } from 'node:fs'
import type { FrameClass, Session } from './generators.js'
import { runSession, startFuzzTarget, type CrashReport, type FuzzTarget } from './wire-fuzzer.js'

type Suspect = CrashReport['inFlight'][number]

function toSession(s: Suspect, frames = s.frames): Session {
  return {
    protocol: s.protocol as Session['protocol'],
    principal: s.principal,
    hello: s.hello as Session['hello'],
    ...(s.path !== undefined ? { path: s.path } : {}),
    frames: frames.map((f) => ({ cls: f.cls as FrameClass, bytes: new Uint8Array(Buffer.from(f.hex, 'hex')) }))
  }
}

let target: FuzzTarget | null = null
/** True if the session took the relay down (a fresh relay is started for the next try). */
async function crashes(session: Session): Promise<boolean> {
  target ??= await startFuzzTarget()
  await runSession(session, 0, target.principals, 15_000)
  // The relay may die just after the last frame: a fresh reader proves it is up.
  if (target.exit() === null) await target.readSentinel().catch(() => undefined)
  const died = target.exit() !== null
  if (died) {
    console.log(`  relay died: ${JSON.stringify(target.exit())}\n${target.relay.stderr().split('\n').slice(0, 6).join('\n')}`)
    await target.close()
    target = null
  }
  return died
}

const file = process.argv[2]
if (!file) throw new Error('usage: replay.ts <crash file>')
const crash = JSON.parse(readFileSync(file, 'utf8')) as CrashReport
for (const suspect of crash.inFlight) {
  console.log(`session ${suspect.index} (${suspect.protocol}, ${suspect.principal}, hello ${suspect.hello}, ${suspect.frames.length} frames)`)
  if (!(await crashes(toSession(suspect)))) continue
  for (const frame of suspect.frames) {
    if (await crashes(toSession(suspect, [frame]))) {
      console.log(`GUILTY: ${suspect.protocol} ${suspect.principal} hello ${suspect.hello}${suspect.path ? ` path ${suspect.path}` : ''} frame ${frame.cls} ${frame.hex.length > 400 ? `${frame.hex.slice(0, 400)}... (${frame.hex.length / 2} bytes)` : frame.hex}`)
      break
    }
  }
  break
}
await (target as FuzzTarget | null)?.close()
