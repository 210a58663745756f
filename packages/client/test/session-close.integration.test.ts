/**
 * SESSION-6 as an app sees it: a process that opens a session on a real relay (over a real
 * WebSocket) and closes it exits by itself, with nothing left running.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtEnv, repoRoot } from '../../../scripts/built-packages.js'
import { startRelayChild, type RelayChild } from './harness/relay.js'

let relay: RelayChild
beforeAll(async () => {
  relay = await startRelayChild()
})
afterAll(() => relay.close())

describe('SESSION-6 (real relay, child process)', () => {
  it('[SESSION-6] a process that opened a session on a real relay and closed it exits by itself (killed at 20 s otherwise)', async () => {
    const script = fileURLToPath(new URL('./fixtures/open-and-close.mjs', import.meta.url))
    // execFile rejects if the child is still running at the timeout (it is then killed).
    const { stdout } = await promisify(execFile)(process.execPath, [script, relay.url], {
      cwd: repoRoot,
      env: builtEnv({ ORCHARD_CREDENTIAL: relay.ownerCredential }),
      timeout: 20_000
    })
    expect(stdout).toBe('closed disconnected\n')
  }, 40_000)
})
