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

export default defineConfig({
  resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['@orchard/source', 'module', 'node', 'development|production'] } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/**/*.test.ts',
      'scripts/**/*.test.ts',
      'test/**/*.test.ts'
    ],
    exclude: [...configDefaults.exclude, 'scripts/fixtures/**'],
    globalSetup: ['scripts/vitest-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn relays and child processes; two cores in CI.
    pool: 'forks',
    maxWorkers: 2,
    // A whole-suite run also checks SPEC citations from the tests it collected (spec-check).
    reporters: ['default', new SpecCheckReporter()]
  }
})
