/**
 * Runs once before any test file (vitest `globalSetup`): the tests that start a process (the
 * `orchard` command, a relay, an instance, a fixture) run the packages' build
 * (scripts/built-packages.ts), so any package whose sources changed since its last build is
 * built again first, and no test ever runs an old build of the code under test.
 */
import { ensureBuilt } from './built-packages.js'

export default function setup(): void {
  const rebuilt = ensureBuilt()
  if (rebuilt.length > 0) console.log(`rebuilt before the tests (sources newer than dist/): ${rebuilt.join(', ')}`)
}
