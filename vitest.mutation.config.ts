/**
 * The vitest config Stryker runs (stryker.config.mjs): only the tests of the package being
 * mutated (MUTATION_PACKAGE), so each mutant costs that package's tests rather than the whole
 * suite. A mutant that only another package's tests would catch counts as surviving: the
 * score says how well a package's own tests guard it.
 */
import { defineConfig } from 'vitest/config'

const pkg = process.env.MUTATION_PACKAGE ?? 'protocol'

export default defineConfig({
  test: {
    include: [`packages/${pkg}/src/**/*.test.ts`, `packages/${pkg}/test/**/*.test.ts`],
    // Real-PTY tests need a terminal per run; they test node-pty, not the mutated modules.
    exclude: ['**/*.pty.integration.test.ts', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 1
  }
})
