/**
 * Runs once before any test file (vitest `globalSetup`): the tests that start the `orchard`
 * command as a process run its build (packages/cli/test/harness/built-cli.ts), so any package
 * whose sources changed since its last build is built again first, and no test ever runs an
 * old build of the code under test.
 */
import { ensureCliBuilt } from '../packages/cli/test/harness/built-cli.js'

export default function setup(): void {
  const rebuilt = ensureCliBuilt()
  if (rebuilt.length > 0) console.log(`rebuilt before the tests (sources newer than dist/): ${rebuilt.join(', ')}`)
}
