// Mutation testing (issue 11): `pnpm test:mutation` mutates the modules that hold the rules
// and runs the vitest tests related to each mutant. Incremental: results are kept in
// reports/stryker-incremental.json, so a rerun only tests mutants whose code or tests changed.
// Not part of `pnpm test` or CI: a full run takes hours on two cores.
// One package: `MUTATION_PACKAGE=relay pnpm test:mutation` (protocol, workspace, relay, client);
// one module: add `--mutate packages/protocol/src/decode.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
import { createRequire } from 'node:module'

// pnpm keeps Stryker's plugins out of core's reach, so they are named by path.
const require = createRequire(import.meta.url)
const plugins = ['@stryker-mutator/vitest-runner', '@stryker-mutator/typescript-checker'].map((name) => require.resolve(name))

const pkg = process.env.MUTATION_PACKAGE ?? 'protocol'
const modules = {
  protocol: ['packages/protocol/src/{decode,encode,tokens}.ts'],
  workspace: ['packages/workspace/src/{PearStore,store-diff,WorkspaceModel,snapshot-format,file-io,pear-rules}.ts'],
  relay: [
    'packages/relay/src/auth/*.ts',
    'packages/relay/src/coordination/LeaseManager.ts',
    'packages/relay/src/docs/{UpdatePipeline,DocState}.ts',
    'packages/relay/src/terminals/{TerminalChannel,TerminalRing}.ts',
    'packages/relay/src/connection/OrchardConnection.ts'
  ],
  client: ['packages/client/src/{LeaseKeeper,RelayProvider}.ts', 'packages/client/src/terminal/OutputReassembler.ts']
}
if (!(pkg in modules)) throw new Error(`MUTATION_PACKAGE must be one of ${Object.keys(modules).join(', ')}; got ${pkg}`)

export default {
  packageManager: 'pnpm',
  plugins,
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `reports/stryker-incremental-${pkg}.json`,
  reporters: ['clear-text', 'json', 'progress'],
  jsonReporter: { fileName: `reports/mutation/${pkg}.json` },
  concurrency: 1,
  timeoutMS: 20000,
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['reports', '.orchard', '.stryker-tmp*', '*.db', '*.db-wal', '*.db-shm'],
  mutate: modules[pkg],
}
