/**
 * The real `orchard relay` CLI as a child process: started with --json, read back its one
 * JSON line, and stopped gracefully (SIGTERM) or killed (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url))
// The CLI is its own package now (@orchard/cli); the relay's tests still start it as a process.
const cli = fileURLToPath(new URL('../../../cli/src/bin.ts', import.meta.url))

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
    const child = spawn(process.execPath, ['--conditions=@orchard/source', '--import', 'tsx', cli, 'relay', '--json', '--port', '0', ...args], {
      cwd: repoRoot,
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
