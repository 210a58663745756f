/**
 * The real `orchard` command as a child process, as users run it (plain Node on its build,
 * dist/bin.mjs, rebuilt before the tests when its sources changed: scripts/built-packages.ts): one-shot
 * runs, and a relay started with --json whose one JSON line is read back.
 */
import { execFile } from 'node:child_process'
import type { RelayJsonLine } from '../../src/commands/relay.js'
import { builtEnv, CLI_BIN, repoRoot } from '../../../../scripts/built-packages.js'
import { startRelayCli, type RelayCliProcess } from '../../../../scripts/relay-cli-process.js'

export { repoRoot }
export const BIN = CLI_BIN
export const NODE_ARGS = [BIN]

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `orchard ...args` to completion (killed after timeoutMs); never rejects on a non-zero exit. */
export function orchard(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...NODE_ARGS, ...args], { cwd: repoRoot, env: builtEnv(), timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error)
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr })
    })
  })
}

export type RelayProcess = RelayCliProcess<RelayJsonLine>

/** `orchard relay --json --port 0 ...args`, resolved once its JSON line is out (scripts/relay-cli-process.ts). */
export function startRelay(args: string[], timeoutMs = 20_000): Promise<RelayProcess> {
  return startRelayCli<RelayJsonLine>(args, { timeoutMs, command: [process.execPath, ...NODE_ARGS] })
}
