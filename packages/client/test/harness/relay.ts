/**
 * A real relay for the client's own integration tests: the relay CLI as a child process on a
 * loopback port 0 with its SQLite file in a temp dir. The client does not import the relay
 * (dependencies point the other way); it only talks to it, as an app would. The relay runs
 * built, on plain Node, as operators run it (scripts/built-packages.ts: rebuilt before the
 * tests whenever a source is newer than the build); under tsx each start cost about a second
 * of CPU more.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { builtEnv, CLI_BIN, repoRoot } from '../../../../scripts/built-packages.js'

export interface RelayChild {
  /** ws://127.0.0.1:<port> */
  url: string
  ownerCredential: string
  /** SIGTERM, wait for the exit, delete the data. */
  close(): Promise<void>
}

export function startRelayChild(timeoutMs = 20_000): Promise<RelayChild> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-client-relay-'))
  const child = spawn(process.execPath, [CLI_BIN, 'relay', '--json', '--port', '0', '--data', join(dir, 'relay.db')], {
    cwd: repoRoot,
    env: builtEnv(),
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
