#!/usr/bin/env node
/**
 * Lints every package as it will be published: `pnpm pack` (which applies publishConfig,
 * dropping the monorepo-only @orchard/source condition), then publint and
 * @arethetypeswrong/cli on the tarball. Run after `pnpm build`. Exits non-zero on any
 * finding; attw uses the node16 profile (node16/nodenext and bundler resolution; Node 10
 * resolution has no `exports` and is not supported), and esm-only for the ESM-only relay
 * and CLI.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const out = mkdtempSync(join(tmpdir(), 'orchard-pack-'))
const bin = (name) => join(root, 'node_modules', '.bin', name)
// The pnpm running this script (pnpm sets npm_execpath), else the README's pinned one.
const execPath = process.env.npm_execpath ?? ''
const [pnpm, ...pnpmArgs] = /pnpm/.test(execPath) ? [process.execPath, execPath] : ['npx', '-y', 'pnpm@10.34.8']
let failed = false
try {
  for (const name of readdirSync(join(root, 'packages'))) {
    const dir = join(root, 'packages', name)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    if (pkg.private) continue
    execFileSync(pnpm, [...pnpmArgs, 'pack', '--pack-destination', out], { cwd: dir, stdio: 'ignore' })
    const tarball = join(out, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`)
    const esmOnly = !JSON.stringify(pkg.exports ?? {}).includes('"require"')
    /** @type {Array<[string, string[]]>} */
    const lints = [
      ['publint', ['run', tarball, '--strict']],
      ...(pkg.exports ? [/** @type {[string, string[]]} */ (['attw', [tarball, '--profile', esmOnly ? 'esm-only' : 'node16', '--format', 'ascii']])] : [])
    ]
    for (const [tool, args] of lints) {
      try {
        const text = execFileSync(bin(tool), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        console.log(`${pkg.name} ${tool}: ${text.split('\n').find((line) => /No problems|All good/i.test(line))?.trim() ?? 'no problems (exit 0; Node 10 resolution ignored by the profile)'}`)
      } catch (caught) {
        failed = true
        const error = /** @type {{ stdout?: string, stderr?: string }} */ (caught)
        console.error(`${pkg.name} ${tool} found problems:\n${error.stdout ?? ''}${error.stderr ?? ''}`)
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
