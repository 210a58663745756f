/**
 * The real `orchard relay` CLI as a child process: started with --json, read back its one
 * JSON line, and stopped gracefully (SIGTERM) or killed (SIGKILL). It runs built, on plain
 * Node, as operators run it (scripts/built-packages.ts: rebuilt before the tests whenever a
 * source is newer than the build); under tsx each start cost about a second of CPU more.
 */
import type { ChildProcess } from 'node:child_process'
import { startRelayCli } from '../../../../scripts/relay-cli-process.js'

export interface RelayInfo {
  workspaceId: string
  url: string
  ownerToken: string
  editorInvite: string | null
  viewerInvite: string | null
  adminToken: string
}

export interface RelayProcess {
  info: RelayInfo
  child: ChildProcess
  stderr: () => string
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>
  /** SIGKILL and wait for the process to be gone. */
  kill(): Promise<void>
}

export async function startRelayProcess(args: string[], timeoutMs = 20_000): Promise<RelayProcess> {
  const relay = await startRelayCli<RelayInfo>(args, { timeoutMs })
  return {
    info: relay.info,
    child: relay.child,
    stderr: relay.stderr,
    stop: () => relay.stop('SIGTERM'),
    kill: async () => {
      await relay.stop('SIGKILL')
    }
  }
}
