/**
 * The real `orchard` command as a child process, as users run it (plain Node on its build,
 * dist/bin.mjs, rebuilt before the tests when its sources changed: scripts/built-packages.ts): one-shot
 * runs, and a relay started with --json whose one JSON line is read back.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import type { RelayJsonLine } from '../../src/commands/relay.js'
import { builtEnv, CLI_BIN, repoRoot } from '../../../../scripts/built-packages.js'

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

export interface RelayProcess {
  info: RelayJsonLine
  child: ChildProcess
  stderr: () => string
  stdout: () => string
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export function startRelay(args: string[], timeoutMs = 20_000): Promise<RelayProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, 'relay', '--json', '--port', '0', ...args], { cwd: repoRoot, env: builtEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let started = false
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`relay did not start within ${timeoutMs} ms: ${stderr}`))
    }, timeoutMs)
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n').find((entry) => entry.startsWith('{') && entry.endsWith('}'))
      if (!line || started) return
      started = true
      clearTimeout(timer)
      resolve({
        info: JSON.parse(line) as RelayJsonLine,
        child,
        stderr: () => stderr,
        stdout: () => stdout,
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal)
          return exited
        }
      })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (!started) reject(new Error(`relay exited (${code}) before starting: ${stderr}`))
    })
  })
}
