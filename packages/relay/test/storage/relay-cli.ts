/**
 * The real `orchard relay` CLI run until it exits on its own, for start-up refusals: the
 * exit code and both streams, as an operator sees them. (startRelay in the CLI's test
 * harness is for relays that start.)
 */
import { spawn } from 'node:child_process'
// The CLI is its own package (@orchard/cli); it runs built, as operators run it (rebuilt
// before the tests whenever a source is newer than the build).
import { builtEnv, CLI_BIN, repoRoot } from '../../../../scripts/built-packages.js'

export interface RelayExit {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `orchard relay --json --port 0 ...args`; a relay that starts instead is killed and reported as an error. */
export function runRelayUntilExit(args: string[], options: { uid?: number; gid?: number; timeoutMs?: number } = {}): Promise<RelayExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, 'relay', '--json', '--port', '0', ...args], {
      cwd: repoRoot,
      env: builtEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {})
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`relay neither started nor exited within ${options.timeoutMs ?? 20_000} ms: ${stderr}`))
    }, options.timeoutMs ?? 20_000)
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.includes('{')) {
        child.kill('SIGKILL')
        clearTimeout(timer)
        reject(new Error(`the relay started, but it should have refused: ${stdout}`))
      }
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** True when stderr holds a JavaScript stack trace, which an operator should never need to read. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(\(|:\d+:\d+)/m.test(text)
}
