/**
 * Test helper: runs an example as a user would, in its own node process, and collects what it
 * printed. The example itself is TypeScript, so it runs under tsx; the packages it imports
 * resolve to their build (builtEnv drops the @orchard/source condition; the build is never
 * stale: scripts/built-packages.ts), so tsx transforms only the example's own file, and the
 * processes it starts (the built `orchard` command, its instances) run the same way.
 */
import { spawn } from 'node:child_process'
import { builtEnv, repoRoot as root } from '../scripts/built-packages.js'

export interface ExampleRun {
  code: number | null
  signal: string | null
  /** stdout and stderr, interleaved as they arrived. */
  out: string
}

/** Runs `file` (relative to the repo root); killed with SIGKILL after `timeoutMs`. */
export function runExample(file: string, timeoutMs: number): Promise<ExampleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: builtEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out })
    })
  })
}
