/**
 * The vitest config Stryker runs (stryker.config.mjs): only the tests of the package being
 * mutated (MUTATION_PACKAGE), so each mutant costs that package's tests rather than the whole
 * suite (for the client, also the relay's in-memory tests that drive it). A mutant that only another package's tests would catch counts as surviving: the
 * score says how well a package's own tests guard it.
 */
import { defineConfig } from 'vitest/config'

const pkg = process.env.MUTATION_PACKAGE ?? 'protocol'

export default defineConfig({
  // As vitest.config.ts: tests import @orchard/* by name, and without this condition that
  // resolves to the packages' built dist/, so the mutants Stryker puts in src/ were never
  // run by those tests (and new src code was tested against an old build).
  resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] } },
  test: {
    include: [
      `packages/${pkg}/src/**/*.test.ts`,
      `packages/${pkg}/test/**/*.test.ts`,
      // The provider and sessions are exercised end to end by the relay's in-memory tests.
      ...(pkg === 'client' ? ['packages/relay/test/{provider,presence,coordination,terminals,lease-safety.property,memory-transport}.test.ts'] : [])
    ],
    // Stryker 10 runs on Node 22, and the repo's native modules (better-sqlite3, node-pty) are
    // built for Node 20: tests that load them (integration tests, SQLite stores) cannot run
    // under it. Mutants they alone would catch count as surviving (TESTING.md says which).
    exclude: [
      '**/*.integration.test.ts',
      'packages/relay/test/offline.property.test.ts',
      'packages/relay/test/storage/**',
      '**/node_modules/**'
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 1
  }
})
