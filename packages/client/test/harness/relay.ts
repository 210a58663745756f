/**
 * A real relay for the client's own integration tests: the relay CLI as a child process on a
 * loopback port 0 with its SQLite file in a temp dir. The client does not import the relay
 * (dependencies point the other way); it only talks to it, as an app would.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url))
// The `orchard` command's own package, from its sources (as the relay's test harness runs it).
const cli = fileURLToPath(new URL('../../../cli/src/bin.ts', import.meta.url))

export interface RelayChild {
  /** ws://127.0.0.1:<port> */
  url: string
  ownerCredential: string
  /** SIGTERM, wait for the exit, delete the data. */
  close(): Promise<void>
}

export function startRelayChild(timeoutMs = 20_000): Promise<RelayChild> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-client-relay-'))
  const child = spawn(process.execPath, ['--conditions=@orchard/source', '--import', 'tsx', cli, 'relay', '--json', '--port', '0', '--data', join(dir, 'relay.db')], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const close = async () => {
    child.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      void close()
      reject(new Error(`the relay did not start within ${timeoutMs} ms: ${stderr}`))
    }, timeoutMs)
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n').find((entry) => entry.startsWith('{'))
      if (!line) return
      clearTimeout(timer)
      const info = JSON.parse(line) as { url: string; ownerToken: string }
      resolve({ url: info.url, ownerCredential: info.ownerToken, close })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (!stdout.includes('{')) reject(new Error(`the relay exited (${code}) before starting: ${stderr}`))
    })
  })
}
