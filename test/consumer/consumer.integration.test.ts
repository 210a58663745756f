/**
 * Orchard as an npm user gets it: packed tarballs installed into an app outside the repo
 * (see harness/consumer-project.ts; one install shared by every check).
 */
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConsumerProject, consumerEnv, repoRoot, type ConsumerProject } from './harness/consumer-project.js'

let project: ConsumerProject
beforeAll(async () => {
  project = await createConsumerProject()
}, 180_000)
afterAll(() => {
  if (project && !process.env.ORCHARD_KEEP_CONSUMER) rmSync(project.dir, { recursive: true, force: true, maxRetries: 5 })
})

/** Resolves once no process of group `pgid` is left; polls, bounded by `timeoutMs`. */
async function groupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      process.kill(-pgid, 0)
    } catch {
      return
    }
    if (Date.now() > deadline) {
      process.kill(-pgid, 'SIGKILL')
      throw new Error(`processes of group ${pgid} were still running ${timeoutMs} ms after SIGTERM: the installed relay does not exit on SIGTERM`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const YJS_WARNING = 'Yjs was already imported'

describe('an app that installs the tarballs', () => {
  it('[PKG-1] [PKG-5] a plain Node ESM program runs a relay from the library and syncs two sessions, on the app\'s own Yjs', async () => {
    const { stdout, stderr } = await project.node(['esm-sync.mjs'])
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { names: string[]; warnings: string[] }
    expect(result.names).toEqual(['From Ana'])
    expect(result.warnings).toEqual([])
    expect(stderr).not.toContain(YJS_WARNING)
    // One yjs in the whole install: Orchard's packages use the app's.
    const copies = readdirSync(join(project.dir, 'node_modules'), { recursive: true, encoding: 'utf8' }).filter((path) => /(^|\/)yjs\/package\.json$/.test(path))
    expect(copies).toEqual(['yjs/package.json'])
  }, 60_000)

  it('[PKG-4] [PKG-5] require() works from CommonJS', async () => {
    const { stdout, stderr } = await project.node(['cjs-require.cjs'])
    expect(JSON.parse(stdout)).toEqual({ names: ['From CommonJS'], join: 'function', provider: 'function', invite: null, warnings: [] })
    expect(stderr).not.toContain(YJS_WARNING)
  }, 30_000)

  it('[PKG-6] @orchard/transport-relaycast imports from plain Node ESM (the host\'s own sessions sync through it) and require()s from CommonJS', async () => {
    const [esm, cjs] = await Promise.all([project.node(['relaycast-esm.mjs']), project.node(['relaycast-cjs.cjs'])])
    expect(JSON.parse(esm.stdout.trim().split('\n').at(-1) as string)).toEqual({ names: ['Through the host'], envelope: true, warnings: [] })
    expect(JSON.parse(cjs.stdout)).toEqual({
      exports: ['function', 'function', 'function', 'function'],
      entry: { kind: 7, targets: ['a/b'], payload: [1, 2, 3] },
      bucket: [true, true, false],
      warnings: []
    })
    for (const { stderr } of [esm, cjs]) expect(stderr).toBe('')
    // The SDK is the app's one copy (a peer, never bundled): nothing of it ships in the tarball.
    const shipped = join(project.dir, 'node_modules/@orchard/transport-relaycast')
    const files = readdirSync(shipped, { recursive: true, encoding: 'utf8' }).sort()
    expect(files).toEqual(['README.md', 'SPEC.md', 'dist', 'dist/index.cjs', 'dist/index.cjs.map', 'dist/index.d.cts', 'dist/index.d.mts', 'dist/index.mjs', 'dist/index.mjs.map', 'package.json'])
    // The host's in-process transport comes from the client's main entry, so an app never
    // loads the client's testing entry at run time; that entry imports the app's vitest
    // rather than carrying a bundled copy of it.
    expect(readFileSync(join(shipped, 'dist/index.mjs'), 'utf8')).not.toContain('@orchard/client/testing')
    expect(readFileSync(join(project.dir, 'node_modules/@orchard/client/dist/testing/index.mjs'), 'utf8')).toMatch(/from ["']vitest["']/)
    const sdkCopies = readdirSync(join(project.dir, 'node_modules'), { recursive: true, encoding: 'utf8' }).filter((path) => /(^|\/)@relaycast\/sdk\/package\.json$/.test(path))
    expect(sdkCopies).toEqual(['@relaycast/sdk/package.json'])
  }, 30_000)

  it('[PKG-7] @orchard/observer\'s export, from the installed tarball, resolves to its built page and Node entry', async () => {
    const { stdout, stderr } = await project.node(['observer.mjs'])
    const installed = realpathSync(join(project.dir, 'node_modules/@orchard/observer'))
    const result = JSON.parse(stdout) as { entry: string; distDir: string; indexHtml: string; built: boolean; assets: Array<[string, boolean]>; link: string }
    expect(result).toMatchObject({
      entry: join(installed, 'lib/index.mjs'),
      distDir: join(installed, 'dist'),
      indexHtml: join(installed, 'dist/index.html'),
      built: true,
      link: 'http://127.0.0.1:4455/#invite=orc_i.x%20y'
    })
    // The page's script and stylesheet are there; nothing but the page is in dist/ (the relay serves it whole).
    expect(result.assets.map(([path]) => path.replace(/-[\w-]+\./, '.'))).toEqual(['assets/index.js', 'assets/index.css'])
    expect(result.assets.every(([, exists]) => exists)).toBe(true)
    expect(readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' }).filter((path) => !path.startsWith('assets')).sort()).toEqual(['index.html'])
    expect(stderr).toBe('')
  }, 30_000)

  it('[PKG-2] the declarations type-check under strict + exactOptionalPropertyTypes, node16 and bundler resolution', async () => {
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc')
    const results = await Promise.all(
      ['node16', 'bundler'].map((mode) =>
        project.node([tsc, '-p', `tsconfig.${mode}.json`], 120_000).then(
          () => ({ mode, errors: '' }),
          (error: { stdout?: string; message: string }) => ({ mode, errors: error.stdout || error.message })
        )
      )
    )
    expect(results).toEqual([
      { mode: 'node16', errors: '' },
      { mode: 'bundler', errors: '' }
    ])
  }, 150_000)

  it('[PKG-3] Vite bundles a page that uses @orchard/client/browser, with no Node built-ins', async () => {
    const { build, createLogger } = await import('vite')
    const warnings: string[] = []
    const logger = createLogger('silent')
    logger.warn = (message) => void warnings.push(message)
    logger.warnOnce = (message) => void warnings.push(message)
    const root = join(project.dir, 'browser')
    await build({ root, configFile: false, logLevel: 'silent', customLogger: logger, build: { outDir: join(root, 'dist'), emptyOutDir: true } })
    const assets = readdirSync(join(root, 'dist/assets')).filter((name) => name.endsWith('.js'))
    const bundle = assets.map((name) => readFileSync(join(root, 'dist/assets', name), 'utf8')).join('\n')
    expect(warnings).toEqual([])
    expect(bundle).not.toMatch(/__vite-browser-external|node:/)
    expect(bundle).toContain('/orchard')
  }, 60_000)

  it('[CLI-8] `npx orchard relay` from the installed CLI runs compiled JS on plain Node and answers /healthz', async () => {
    const child = spawn('npx', ['--no-install', 'orchard', 'relay', '--port', '0', '--json', '--data', './cli.db'], {
      cwd: project.dir,
      env: consumerEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const info = await new Promise<{ url: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no JSON line from orchard relay: ${stderr}`)), 20_000)
        child.stdout?.on('data', (chunk: Buffer) => {
          stdout += chunk.toString()
          const line = stdout.split('\n').find((entry) => entry.startsWith('{') && entry.endsWith('}'))
          if (line) {
            clearTimeout(timer)
            resolve(JSON.parse(line) as { url: string })
          }
        })
      })
      const health = (await (await fetch(`${info.url.replace('ws://', 'http://')}/healthz`)).json()) as { ok: boolean }
      expect(health.ok).toBe(true)
      // Nothing in the installed CLI loads TypeScript at run time.
      const cliDist = join(project.dir, 'node_modules/@orchard/cli/dist')
      const shipped = readdirSync(cliDist).map((name) => readFileSync(join(cliDist, name), 'utf8')).join('\n')
      expect(shipped).not.toContain('tsx')
    } finally {
      process.kill(-(child.pid as number), 'SIGTERM')
      await exited
      // npx exits before the relay it started has closed its database (the WAL checkpoint
      // deletes files in the project); wait for the whole group, or afterAll's removal races it.
      await groupGone(child.pid as number, 15_000)
    }
    expect(stderr).toBe('')
  }, 60_000)
})
