/**
 * The real `orchard relay` CLI as a child process: started with --json, read back its one
 * JSON line, and stopped gracefully (SIGTERM) or killed (SIGKILL). It runs built, on plain
 * Node, as operators run it (scripts/built-packages.ts: rebuilt before the tests whenever a
 * source is newer than the build); under tsx each start cost about a second of CPU more.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { builtEnv, CLI_BIN, repoRoot } from '../../../../scripts/built-packages.js'

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

export function startRelayProcess(args: string[], timeoutMs = 20_000): Promise<RelayProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, 'relay', '--json', '--port', '0', ...args], {
      cwd: repoRoot,
      env: builtEnv(),
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`relay did not start within ${timeoutMs} ms: ${stderr}`))
    }, timeoutMs)
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n').find((entry) => entry.startsWith('{'))
      if (!line) return
      clearTimeout(timer)
      resolve({
        info: JSON.parse(line) as RelayInfo,
        child,
        stderr: () => stderr,
        stop: async () => {
          child.kill('SIGTERM')
          return exited
        },
        kill: async () => {
          child.kill('SIGKILL')
          await exited
        }
      })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (!stdout.includes('{')) reject(new Error(`relay exited (${code}) before starting: ${stderr}`))
    })
  })
}
