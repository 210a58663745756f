/**
 * The page the tests and the bench open is the real build (dist/), made here when it is
 * missing or older than any source it is built from, so a clean clone's `pnpm test`
 * builds what it needs and an edit is never tested against a stale bundle.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const packagesDir = join(packageDir, '..')
export const distDir = join(packageDir, 'dist')

/** Sources that end up in the bundle: the observer, the client, workspace and protocol. */
const SOURCES = [join(packageDir, 'src'), join(packageDir, 'index.html'), join(packageDir, 'vite.config.ts'), ...['client', 'workspace', 'protocol'].map((name) => join(packagesDir, name, 'src'))]

function newest(path: string, depth = 0): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  if (depth > 6) return 0
  let latest = 0
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name), depth + 1))
  return latest
}

export async function ensureObserverBuilt(): Promise<string> {
  const index = join(distDir, 'index.html')
  const builtAt = existsSync(index) ? statSync(index).mtimeMs : 0
  if (builtAt > 0 && Math.max(...SOURCES.map((source) => newest(source))) <= builtAt) return distDir
  const { build } = await import('vite')
  await build({ configFile: join(packageDir, 'vite.config.ts'), logLevel: 'error' })
  return distDir
}
