/**
 * A child process saving in a loop is killed with SIGKILL at random moments. After each
 * kill the file must parse, load without problems, and hold every save whose flush() had
 * resolved before the kill.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { PearStore } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'

const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const { dir, cleanup } = tempDir('orchard-crash-')
afterAll(cleanup)

/** Runs the child until `killAfterMs` after it is ready, SIGKILLs it, returns the last durable n. */
function runAndKill(file: string, start: number, killAfterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, file, String(start)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let lastDurable = start - 1
    let buffer = ''
    let stderr = ''
    const deadline = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`crash child never became ready: ${stderr}`))
    }, 20_000)
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        if (line === 'ready') setTimeout(() => proc.kill('SIGKILL'), killAfterMs)
        else if (line.startsWith('durable ')) lastDurable = Number(line.slice(8))
        else if (line.startsWith('problems ')) reject(new Error(`child found problems: ${line}`))
      }
    })
    proc.on('exit', (_code, signal) => {
      clearTimeout(deadline)
      if (signal === 'SIGKILL') resolve(lastDurable)
      else reject(new Error(`crash child exited on its own (${signal}): ${stderr}`))
    })
  })
}

describe('crash safety', () => {
  it('[FILE-5] SIGKILL at random moments never tears the file or loses a flushed save', async () => {
    const file = join(dir, 'projects.json')
    const kills = fc.sample(fc.integer({ min: 5, max: 250 }), { numRuns: 10, seed: Number(process.env.ORCHARD_SEED ?? 20261125) })
    let next = 1
    for (const killAfterMs of kills) {
      const durable = await runAndKill(file, next, killAfterMs)
      const text = readFileSync(file, 'utf8')
      expect(() => JSON.parse(text)).not.toThrow()
      const store = new PearStore({ file, logger: recordingLogger() })
      expect(store.problems).toEqual([])
      const names = new Set(store.loadStore().projects.map((project) => project.name))
      for (let n = 1; n <= durable; n++) expect(names.has(`p${n}`), `save p${n} was flushed before the kill`).toBe(true)
      await store.close()
      next = Math.max(durable, ...[...names].map((name) => Number(name.slice(1)))) + 1
    }
    expect(next).toBeGreaterThan(10)
  }, 120_000)
})
