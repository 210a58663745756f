import { configDefaults, defineConfig } from 'vitest/config'
import { SpecCheckReporter } from './scripts/spec-check/reporter.js'

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/**/*.test.ts',
      'scripts/**/*.test.ts'
    ],
    exclude: [...configDefaults.exclude, 'scripts/fixtures/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn relays and child processes; two cores in CI.
    pool: 'forks',
    maxWorkers: 2,
    // A whole-suite run also checks SPEC citations from the tests it collected (spec-check).
    reporters: ['default', new SpecCheckReporter()]
  }
})
