/**
 * Moved to scripts/built-packages.ts once the relay's, the client's, the workspace's and the
 * examples' tests ran the build too. Kept so imports written before the move still resolve.
 */
export { builtEnv, CLI_BIN, ensureBuilt, ensureBuilt as ensureCliBuilt, repoRoot, staleBuilds } from '../../../../scripts/built-packages.js'
