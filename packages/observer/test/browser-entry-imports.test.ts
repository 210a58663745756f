/**
 * The client's browser entry must not reach anything Node-only: walks every module it
 * imports (through the workspace and protocol packages too) and lists what it finds.
 * A bundler would only warn and stub such an import, and the page would fail at run time.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const packages = fileURLToPath(new URL('../..', import.meta.url))
/** Workspace packages' entries as the browser path imports them. */
const ENTRIES: Record<string, string> = {
  '@orchard/protocol': join(packages, 'protocol/src/index.ts'),
  '@orchard/workspace/browser': join(packages, 'workspace/src/browser.ts'),
  '@orchard/client/browser': join(packages, 'client/src/browser.ts')
}
/** Node-only modules, or ones that need them (the headless terminal, the `ws` client). */
const FORBIDDEN = /^(node:|ws$|@xterm\/headless|@xterm\/addon-serialize|better-sqlite3|node-pty|fs$|path$|os$|crypto$|zlib$)/
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g

/** Every module reachable from `entry`, with the non-relative specifiers each imports. */
function walk(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>()
  const queue = [entry]
  while (queue.length > 0 && seen.size < 500) {
    const file = queue.pop() as string
    if (seen.has(file)) continue
    const external: string[] = []
    seen.set(file, external)
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = (match[1] ?? match[2]) as string
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))
        if (existsSync(target)) queue.push(target)
      } else if (ENTRIES[specifier]) {
        queue.push(ENTRIES[specifier] as string)
      } else {
        external.push(specifier)
      }
    }
  }
  return seen
}

describe('the browser entry', () => {
  it('[BROWSER-5] @orchard/client/browser reaches no node: module, no ws, no headless xterm, through any package', () => {
    const modules = walk(ENTRIES['@orchard/client/browser'] as string)
    const offenders = [...modules].flatMap(([file, specifiers]) => specifiers.filter((specifier) => FORBIDDEN.test(specifier)).map((specifier) => `${file.slice(packages.length)} imports ${specifier}`))
    expect(offenders).toEqual([])
    // It did walk the real graph: the provider, the terminal stream and the workspace model.
    const files = [...modules.keys()].map((file) => file.slice(packages.length))
    expect(files).toEqual(expect.arrayContaining(['client/src/RelayProvider.ts', 'client/src/terminal/TerminalStream.ts', 'workspace/src/WorkspaceModel.ts', 'workspace/src/channel-rules.ts']))
  })

  it('[BROWSER-5] the check finds a Node import where there is one (the Node entry)', () => {
    const modules = walk(join(packages, 'client/src/index.ts'))
    const specifiers = [...modules.values()].flat()
    expect(specifiers).toEqual(expect.arrayContaining(['ws', 'node:os']))
  })
})
