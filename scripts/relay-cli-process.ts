/**
 * `orchard relay --json --port 0` as a child process, built, on plain Node (see
 * built-packages.ts), with its one JSON line read back: the relay the CLI's, the relay's and
 * the client's integration tests talk to. One copy of the start-up handshake (the line, the
 * start-up deadline, an exit before the line) instead of one per package's harness.
 *
 * Generic in the JSON line's type: the relay's own tests read some fields, the CLI's tests
 * type it with the command's own `RelayJsonLine`; this file imports no package, so no
 * package's tests depend on another's through it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { builtEnv, CLI_BIN, repoRoot } from './built-packages.js'

export interface RelayCliProcess<Info> {
  /** The relay's JSON line (its URL, the workspace, the owner token, the invites). */
  info: Info
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Sends `signal` (SIGTERM by default) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface RelayCliOptions {
  /** How long the relay may take to print its line before it is killed and the start fails. */
  timeoutMs?: number
  /** The program and its first arguments; by default the built CLI on this Node. */
  command?: readonly string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
}

export function startRelayCli<Info>(args: readonly string[], options: RelayCliOptions = {}): Promise<RelayCliProcess<Info>> {
  const { timeoutMs = 20_000, command = [process.execPath, CLI_BIN], cwd = repoRoot, env = builtEnv() } = options
  const [program, ...programArgs] = command
  if (!program) throw new Error('startRelayCli: `command` must name a program')
  const child = spawn(program, [...programArgs, 'relay', '--json', '--port', '0', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    let started = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the relay did not start within ${timeoutMs} ms: ${stderr}`))
    }, timeoutMs)
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`
      if (started || !line.startsWith('{') || !line.endsWith('}')) return
      started = true
      clearTimeout(timer)
      resolve({
        info: JSON.parse(line) as Info,
        child,
        stdout: () => stdout,
        stderr: () => stderr,
        stop: (signal = 'SIGTERM') => {
          child.kill(signal)
          return exited
        }
      })
    })
    // 'close' (not 'exit'): the streams have ended, so a line printed just before exiting was read.
    child.once('close', (code) => {
      clearTimeout(timer)
      if (!started) reject(new Error(`the relay exited (${code}) before starting: ${stderr}`))
    })
  })
}
