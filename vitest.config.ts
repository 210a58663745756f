import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'
import { SpecCheckReporter } from './scripts/spec-check/reporter.js'

// Every @orchard/* package exports its TypeScript under the `@orchard/source` condition
// (dist/ for everyone else), so tests run on the sources with no build step. Child
// processes the tests start (relays, instances, examples under tsx) inherit it through
// NODE_OPTIONS. The name is scoped because plain `source` is taken: @hocuspocus/server 4
// (a bench peer) exports its own .ts under it. The one exception: tests that start the
// `orchard` command as a process run its build, as users do, and the global setup
// (scripts/vitest-global-setup.ts) first rebuilds any package whose sources are newer.
const SOURCE = '--conditions=@orchard/source'
if (!(process.env.NODE_OPTIONS ?? '').includes(SOURCE)) {
  process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, SOURCE].filter(Boolean).join(' ')
}

const root = fileURLToPath(new URL('.', import.meta.url))

/**
 * Test files that need a worker of their own. Files share their worker's module cache and
 * event loop (isolate: false below), which two kinds of file cannot live with:
 * - files that replace a module (vi.mock, vi.doMock): a mock would not reach a module
 *   another file loaded first, and would leak into the next file;
 * - files that count fake timers (vi.getTimerCount): a previous file's leftovers (a relay
 *   still closing, a socket's retry) schedule timers on the faked clock while the count
 *   runs; CI once counted 5 where the lease sweeper was the only timer of the test's own.
 * These files run in a fresh worker each instead.
 */
function filesThatMock(dir = root, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.') || entry.name === 'dist') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) filesThatMock(path, found)
    else if (entry.name.endsWith('.test.ts') && /\bvi\.((do)?[mM]ock|getTimerCount)\(/.test(readFileSync(path, 'utf8'))) found.push(relative(root, path))
  }
  return found
}
const mocking = ['packages', 'examples', 'scripts', 'test'].filter((dir) => existsSync(join(root, dir))).flatMap((dir) => filesThatMock(join(root, dir)))
const excluded = [...configDefaults.exclude, 'scripts/fixtures/**']
const include = ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts']

export default defineConfig({
  resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] } },
  test: {
    // Which files run is set per project below (vitest concatenates include lists).
    exclude: excluded,
    globalSetup: ['scripts/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn relays and child processes; two cores in CI.
    pool: 'forks',
    maxWorkers: 2,
    // The suite is CPU-bound on two cores, and a fresh worker per file (isolate: true, the
    // default) cost each of ~90 files its own process and a fresh import of yjs, the
    // packages and their dependencies: about half a second of CPU per file. Files in
    // one worker now share them; each file still sets up and tears down its own relays,
    // stores and timers. Files that mock modules keep a fresh worker each (above).
    projects: [
      { extends: true as const, test: { name: 'shared', isolate: false, include, exclude: [...excluded, ...mocking] } },
      ...(mocking.length > 0 ? [{ extends: true as const, test: { name: 'isolated', include: mocking, isolate: true } }] : [])
    ],
    // A whole-suite run also checks SPEC citations from the tests it collected (spec-check).
    reporters: ['default', new SpecCheckReporter()]
  }
})
