/**
 * A temporary app outside the repository that installs Orchard as npm users do: every
 * package packed with `pnpm pack` (so publishConfig applies and workspace: ranges become
 * versions), the tarballs installed with npm, peers (yjs, y-protocols, lib0, @relaycast/sdk) from the
 * registry. Built once per test run and shared by every check, to keep CI short.
 */
import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const fixtures = fileURLToPath(new URL('../fixtures', import.meta.url))
const run = promisify(execFile)

/** The environment of every program run in the consumer: the monorepo's source condition removed. */
export function consumerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  // Not the monorepo's: no source condition, and none of the npm_/pnpm_ settings a
  // `pnpm test` run exports (npm warns about pnpm-only ones).
  for (const key of Object.keys(env)) if (/^(npm|pnpm)_/i.test(key)) delete env[key]
  delete env.NODE_OPTIONS
  delete env.VITEST
  delete env.VITEST_WORKER_ID
  return env
}

function pnpm(): [string, string[]] {
  const execPath = process.env.npm_execpath ?? ''
  return /pnpm/.test(execPath) ? [process.execPath, [execPath]] : ['npx', ['-y', 'pnpm@10.34.8']]
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const stat = statSync(path)
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(path) : stat.mtimeMs)
  }
  return newest
}

/**
 * Builds a package whose build output is missing or older than its sources (install's
 * `prepare` builds them all). The output folders are the package's `files` entries other
 * than docs: dist/ for most, dist/ (the page) and lib/ (its Node entry) for the observer.
 */
function ensureBuilt(dir: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { files?: string[] }
  const outputs = (manifest.files ?? ['dist']).filter((entry) => !/\.md$/.test(entry)).map((entry) => join(dir, entry))
  const sources = Math.max(newestMtime(join(dir, 'src')), statSync(join(dir, 'package.json')).mtimeMs)
  if (outputs.every((output) => existsSync(output) && newestMtime(output) >= sources)) return
  // The package's own build script (tsdown for the libraries, vite for the observer page).
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'ignore', env: consumerEnv() })
}

export interface ConsumerProject {
  dir: string
  /** Runs `node <args>` in the project; resolves with stdout (rejects with stderr on a non-zero exit). */
  node(args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>
}

export async function createConsumerProject(): Promise<ConsumerProject> {
  const dir = mkdtempSync(join(tmpdir(), 'orchard-consumer-'))
  const tarballs = join(dir, 'tarballs')
  mkdirSync(tarballs)
  const [pnpmCommand, pnpmArgs] = pnpm()
  // The CLI ships the observer's built page (CLI-10), so the observer's tarball comes too.
  const packages = ['protocol', 'workspace', 'client', 'relay', 'transport-relaycast', 'observer', 'cli']
  for (const name of packages) ensureBuilt(join(repoRoot, 'packages', name))
  await Promise.all(
    packages.map((name) => run(pnpmCommand, [...pnpmArgs, 'pack', '--pack-destination', tarballs], { cwd: join(repoRoot, 'packages', name), env: consumerEnv() }))
  )
  const orchard = Object.fromEntries(packages.map((name) => [`@orchard/${name}`, `file:./tarballs/orchard-${name}-0.1.0.tgz`]))
  const manifest = {
    name: 'orchard-consumer',
    private: true,
    type: 'module',
    // @relaycast/sdk: transport-relaycast's peer, pinned as its README says to install it.
    dependencies: { ...orchard, yjs: '^13.6.0', '@relaycast/sdk': '6.0.2', '@types/node': '20.19.43' },
    // The tarballs depend on each other by version; point those at the tarballs too.
    overrides: orchard
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2))
  cpSync(fixtures, dir, { recursive: true })
  // --ignore-scripts: better-sqlite3 would compile for ~90 s (its prebuilt download is not
  // reachable here); the same version's addon, already built for the workspace, is copied in.
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, env: consumerEnv(), timeout: 120_000 })
  const addon = 'better-sqlite3/build/Release/better_sqlite3.node'
  const built = join(repoRoot, 'node_modules/.pnpm/better-sqlite3@12.6.2/node_modules', addon)
  const installedVersion = (JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version
  if (installedVersion !== '12.6.2') throw new Error(`the consumer got better-sqlite3 ${installedVersion}; copy a matching addon`)
  mkdirSync(join(dir, 'node_modules/better-sqlite3/build/Release'), { recursive: true })
  copyFileSync(built, join(dir, 'node_modules', addon))
  return {
    dir,
    node: (args, timeoutMs = 30_000) => run(process.execPath, args, { cwd: dir, env: consumerEnv(), timeout: timeoutMs })
  }
}
