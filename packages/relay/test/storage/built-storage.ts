/**
 * The relay's storage as built (dist/, what the CLI and embedding apps run), typed as its
 * sources. The built ThreadedSqliteStorage starts its writer thread from the built worker;
 * from the sources each start also boots tsx in the thread, about five times the CPU, which
 * the contract suites (a fresh storage per test) pay dozens of times. The build is never
 * stale: vitest's global setup (scripts/vitest-global-setup.ts) rebuilds it first when a
 * source is newer.
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { repoRoot } from '../../../../scripts/built-packages.js'

type StorageModule = typeof import('../../src/storage/index.js')

export async function builtStorage(): Promise<StorageModule> {
  // A computed specifier: typecheck needs no build; the types are the sources'.
  return (await import(pathToFileURL(join(repoRoot, 'packages/relay/dist/index.mjs')).href)) as StorageModule
}
