/**
 * FILE-4 with real processes: two processes saving one projects.json, a lock left by a
 * dead process, and a live process's lock that must never be taken.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { PearStore } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'
import { builtEnv, repoRoot } from '../../../scripts/built-packages.js'

const sample = readFileSync(new URL('./fixtures/pear-projects.sample.json', import.meta.url), 'utf8')
const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function setup(content?: string): string {
  const { dir, cleanup } = tempDir('orchard-lock-')
  cleanups.push(cleanup)
  const file = join(dir, 'projects.json')
  if (content !== undefined) writeFileSync(file, content)
  return file
}

interface Child {
  proc: ChildProcessWithoutNullStreams
  /** Resolves when the child prints this line (rejects if it exits first). */
  line(text: string): Promise<void>
  exited: Promise<number | null>
}

function child(fixture: string, args: string[]): Child {
  const script = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url))
  // Plain Node on the built @orchard/workspace (rebuilt before the tests when a source is newer).
  const proc = spawn(process.execPath, [script, ...args], { cwd: repoRoot, env: builtEnv() })
  cleanups.push(() => void proc.kill('SIGKILL'))
  const seen = new Set<string>()
  const waiters = new Map<string, () => void>()
  let stderr = ''
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  createInterface({ input: proc.stdout }).on('line', (line) => {
    seen.add(line)
    waiters.get(line)?.()
  })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return {
    proc,
    exited,
    line: (text) =>
      seen.has(text)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.set(text, resolve)
            void exited.then((code) => reject(new Error(`${fixture} exited (${code}) before printing "${text}": ${stderr}`)))
          })
  }
}

describe('projects.json lock across processes', () => {
  it('[FILE-4] two processes saving one file keep each other\'s edits', async () => {
    const file = setup(sample)
    const a = child('save-child.mjs', [file, 'a', 'pear-app', '25'])
    const b = child('save-child.mjs', [file, 'b', 'pear-app', '25'])
    await Promise.all([a.line('done'), b.line('done')])
    expect(await a.exited).toBe(0)
    expect(await b.exited).toBe(0)
    const store = new PearStore({ file, logger: recordingLogger() })
    cleanups.push(() => store.close())
    const channels = store.loadStore().projects.find((project) => project.id === 'pear-app')!.channels
    for (let n = 1; n <= 25; n++) {
      expect(channels, `a-${n}`).toContain(`a-${n}`)
      expect(channels, `b-${n}`).toContain(`b-${n}`)
    }
    expect(store.problems).toEqual([])
  }, 60_000)

  it('[FILE-4] a lock left by a dead process is broken once stale', async () => {
    const file = setup(sample)
    // A lock as a crashed process leaves it: nobody refreshes it any more.
    mkdirSync(`${file}.lock`)
    const longAgo = new Date(Date.now() - 60_000)
    utimesSync(`${file}.lock`, longAgo, longAgo)
    const store = new PearStore({ file, logger: recordingLogger(), saveDelayMs: 1, lockStaleMs: 2_000 })
    cleanups.push(() => store.close())
    store.addProjectChannel('infra', 'after-crash')
    await store.flush()
    expect(readFileSync(file, 'utf8')).toContain('after-crash')
  })

  it('[FILE-4] a live process\'s lock is waited for, never taken, even long past the stale time', async () => {
    const file = setup(sample)
    const holder = child('lock-holder.mjs', [file, '2000'])
    await holder.line('locked')
    const store = new PearStore({ file, logger: recordingLogger(), saveDelayMs: 1, lockStaleMs: 2_000 })
    cleanups.push(() => store.close())
    store.addProjectChannel('infra', 'waited')
    let saved = false
    const flushed = store.flush().then(() => (saved = true))
    // The holder says when it has held the lock 2.5x the stale time: a lock breaker would have taken it by then.
    await holder.line('held')
    expect(saved).toBe(false)
    expect(readFileSync(file, 'utf8')).not.toContain('waited')
    holder.proc.stdin.write('release\n')
    await holder.line('released')
    await flushed
    expect(readFileSync(file, 'utf8')).toContain('waited')
  }, 30_000)
})
