/**
 * The vitest config Stryker runs (stryker.config.mjs): only the tests of the package being
 * mutated (MUTATION_PACKAGE), so each mutant costs that package's tests rather than the whole
 * suite (for the client, also the relay's in-memory tests that drive it). A mutant that only another package's tests would catch counts as surviving: the
 * score says how well a package's own tests guard it.
 */
import { defineConfig } from 'vitest/config'

const pkg = process.env.MUTATION_PACKAGE ?? 'protocol'
// MUTATION_TESTS (comma-separated test files) runs only those: a quick lower bound on the
// score (the whole package's tests can only kill more), for a busy machine where a module's
// full run takes the best part of an hour. TESTING.md says which scores were measured so.
const only = process.env.MUTATION_TESTS?.split(',').filter(Boolean)

export default defineConfig({
  // As vitest.config.ts: @orchard/* imports resolve to their TypeScript sources. A package
  // that imports itself by name (the relay's tests import @orchard/relay) resolves through
  // its own package.json, i.e. Stryker's mutated sandbox copy; without this condition that
  // was the built dist/, so those tests never saw a mutant (and the client's transport
  // contract failed to load, which broke the dry run).
  resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] } },
  test: {
    include: only ?? [
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
