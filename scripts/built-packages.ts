/**
 * The packages as users run them: plain Node on their build, each `packages/<name>/dist` (the CLI's
 * `bin`, dist/bin.mjs, is what `pnpm start` runs; it imports the other packages' dist/).
 * Tests that start a process (the `orchard` command, a relay, an instance, a fixture saving a
 * file) run it on the build rather than under tsx on the sources: a tsx start costs about a
 * second of CPU more per process (its loader resolving every source module, and again in
 * each relay's SQLite writer thread), and the suite starts dozens. The proof stays about the
 * sources because `ensureBuilt` (vitest's global setup, scripts/vitest-global-setup.ts)
 * rebuilds, before any test runs, every package whose sources are newer than its build.
 *
 * Shared by several packages' tests (the CLI's, the relay's, the client's, the workspace's,
 * the examples'), so it lives here rather than in one package's test/ (no test imports
 * another package's harness for it).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('..', import.meta.url))
export const CLI_BIN = join(repoRoot, 'packages/cli/dist/bin.mjs')

/** The CLI and every package it imports at run time, in build order (each imports only earlier ones): every package a test runs built. */
const PACKAGES = ['protocol', 'workspace', 'client', 'relay', 'cli'] as const
const SOURCE_CONDITION = '--conditions=@orchard/source'

/** Newest modification time under `path` (files and folders), 0 when it does not exist. */
function newest(path: string, depth = 0): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory() || depth > 8) return stat.mtimeMs
  let latest = stat.mtimeMs
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name), depth + 1))
  return latest
}

/** When the build in `dist` was made: its oldest top-level .mjs (tsdown empties dist/ first), 0 if there is none. */
function builtAt(dist: string): number {
  if (!existsSync(dist)) return 0
  const times = readdirSync(dist)
    .filter((name) => name.endsWith('.mjs'))
    .map((name) => statSync(join(dist, name)).mtimeMs)
  return times.length === 0 ? 0 : Math.min(...times)
}

/** Packages whose dist/ is missing or older than anything it is built from. */
export function staleBuilds(): string[] {
  return PACKAGES.filter((name) => {
    const dir = join(repoRoot, 'packages', name)
    const inputs = Math.max(newest(join(dir, 'src')), newest(join(dir, 'package.json')), newest(join(dir, 'tsdown.config.ts')))
    return inputs > builtAt(join(dir, 'dist'))
  })
}

/**
 * The environment for a process running the build: this one's, minus the `@orchard/source`
 * condition the vitest config adds to NODE_OPTIONS (plain Node cannot load the .ts that
 * condition points at; without it imports of the @orchard packages resolve to the packages' dist/).
 */
export function builtEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const options = (process.env.NODE_OPTIONS ?? '')
    .split(/\s+/)
    .filter((option) => option !== '' && option !== SOURCE_CONDITION)
    .join(' ')
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  if (options === '') delete env.NODE_OPTIONS
  else env.NODE_OPTIONS = options
  return env
}

/** Rebuilds (with each package's own `tsdown` build, as `pnpm build` runs it) every stale package, in order. */
export function ensureBuilt(): string[] {
  const stale = staleBuilds()
  for (const name of stale) {
    const cwd = join(repoRoot, 'packages', name)
    const run = spawnSync(join(repoRoot, 'node_modules/.bin/tsdown'), ['--logLevel', 'warn'], { cwd, env: builtEnv(), encoding: 'utf8', timeout: 180_000 })
    if (run.status !== 0) {
      throw new Error(`Building packages/${name} for the tests that run it built failed (exit ${run.status ?? run.signal}); run \`pnpm build\` to see why.\n${run.stdout}${run.stderr}`)
    }
  }
  return stale
}
