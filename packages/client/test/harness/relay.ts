/**
 * A real relay for the client's own integration tests: the relay CLI as a child process on a
 * loopback port 0 with its SQLite file in a temp dir. The client does not import the relay
 * (dependencies point the other way); it only talks to it, as an app would. The relay runs
 * built, on plain Node, as operators run it (scripts/built-packages.ts: rebuilt before the
 * tests whenever a source is newer than the build); under tsx each start cost about a second
 * of CPU more.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startRelayCli } from '../../../../scripts/relay-cli-process.js'

export interface RelayChild {
  /** ws://127.0.0.1:<port> */
  url: string
  ownerCredential: string
  /** SIGTERM, wait for the exit, delete the data. */
  close(): Promise<void>
}

export async function startRelayChild(timeoutMs = 20_000): Promise<RelayChild> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-client-relay-'))
  const relay = await startRelayCli<{ url: string; ownerToken: string }>(['--data', join(dir, 'relay.db')], { timeoutMs }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw error
  })
  return {
    url: relay.info.url,
    ownerCredential: relay.info.ownerToken,
    close: async () => {
      await relay.stop('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
