/**
 * The vitest config Stryker runs (stryker.config.mjs): only the tests of the package being
 * mutated (MUTATION_PACKAGE), so each mutant costs that package's tests rather than the whole
 * suite. A mutant that only another package's tests would catch counts as surviving: the
 * score says how well a package's own tests guard it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * Every `@orchard/<name>[/sub]` import resolved to this checkout's own sources. Stryker runs in a
 * sandbox copy of the repo whose packages/<name>/node_modules are symlinks back into the real
 * checkout, so `@orchard/client` imported from a test (rather than by a relative path) would
 * otherwise load the real, unmutated sources and no mutant could ever fail it.
 */
function orchardSources() {
  const packages = fileURLToPath(new URL('./packages/', import.meta.url))
  const aliases: Array<{ find: RegExp; replacement: string }> = []
  for (const name of readdirSync(packages)) {
    let manifest: { name?: string; exports?: Record<string, unknown> }
    try {
      manifest = JSON.parse(readFileSync(`${packages}${name}/package.json`, 'utf8'))
    } catch {
      continue
    }
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const source = typeof target === 'object' && target !== null ? (target as Record<string, unknown>)['@orchard/source'] : undefined
      if (typeof source !== 'string' || !manifest.name) continue
      const specifier = `${manifest.name}${subpath.slice(1)}`.replace(/[/.]/g, (char) => `\\${char}`)
      aliases.push({ find: new RegExp(`^${specifier}$`), replacement: `${packages}${name}/${source.slice(2)}` })
    }
  }
  return aliases
}

const pkg = process.env.MUTATION_PACKAGE ?? 'protocol'
// MUTATION_TESTS (comma-separated test files) runs only those: a quick lower bound on the
// score (the whole package's tests can only kill more), for a busy machine where a module's
// full run takes the best part of an hour. TESTING.md says which scores were measured so.
const only = process.env.MUTATION_TESTS?.split(',').filter(Boolean)

export default defineConfig({
  // Both: the alias sends every @orchard/* import to this (sandbox) checkout's own sources,
  // since Stryker's sandbox links packages' node_modules back to the real checkout; the
  // conditions pick sources over dist/ for anything the alias does not name.
  resolve: { alias: orchardSources(), conditions: ['@orchard/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] } },
  test: {
    include: only ?? [
      `packages/${pkg}/src/**/*.test.ts`,
      `packages/${pkg}/test/**/*.test.ts`
      // The client once borrowed the relay's in-memory tests here. They never ran the mutants
      // (see orchardSources above) and, once they did, made a RelayProvider run take about four
      // hours on two cores; the client's own tests (packages/client/test) now cover its rules.
    ],
    // Stryker 10 runs on Node 22, and the repo's native modules (better-sqlite3, node-pty) are
    // built for Node 20: tests that load them (integration tests, SQLite stores) cannot run
    // under it. Mutants they alone would catch count as surviving (TESTING.md says which).
    // The workspace loads no native module, so its integration tests (stores on real files)
    // run; only those whose work happens in child processes on the build are left out, as
    // they cannot see a mutant.
    exclude: [
      ...(pkg === 'workspace'
        ? ['packages/workspace/test/crash-safety.integration.test.ts', 'packages/workspace/test/file-lock.integration.test.ts']
        : ['**/*.integration.test.ts']),
      'packages/relay/test/offline.property.test.ts',
      'packages/relay/test/storage/**',
      // A real relay on a real port with its SQLite store (startTestRelay's default).
      'packages/relay/test/hardening/faults-and-client-guard.test.ts',
      '**/node_modules/**'
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 1
  }
})
