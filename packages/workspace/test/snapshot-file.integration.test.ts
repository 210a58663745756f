import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PearStore, ReadOnlyWorkspaceError, parseSnapshot, viewHash } from '@orchard/workspace'
import { recordingLogger, tempDir } from '@orchard/workspace/testing'
import { builtEnv, repoRoot } from '../../../scripts/built-packages.js'

const sample = readFileSync(new URL('./fixtures/pear-projects.sample.json', import.meta.url), 'utf8')
const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  // Stores close (and save) before their directories go.
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function setup(content?: string) {
  const { dir, cleanup } = tempDir()
  cleanups.push(cleanup)
  const file = join(dir, 'projects.json')
  if (content !== undefined) writeFileSync(file, content)
  return { dir, file }
}

function open(file: string, extra: Partial<ConstructorParameters<typeof PearStore>[0]> = {}) {
  const logger = recordingLogger()
  const store = new PearStore({ file, logger, saveDelayMs: 5, ...extra })
  cleanups.push(() => store.close().catch(() => undefined))
  return { store, logger }
}

function asides(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('projects.json.')).sort()
}

describe('projects.json snapshot', () => {
  it('[FILE-1] keeps Pear\'s plain shape plus the orchard section', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    store.addProjectChannel('infra', 'first-edit')
    await store.flush()
    const written = JSON.parse(readFileSync(file, 'utf8'))
    expect(written.projects).toEqual(store.loadStore().projects)
    expect(written.activeProjectId).toBe('pear-app')
    expect(written.relayWorkspace.authKey).toBe('local-secret-never-shared')
    expect(Object.keys(written.orchard).sort()).toEqual(
      ['encoding', 'format', 'localFields', 'localRoots', 'quarantine', 'schemaMajor', 'update', 'viewHash', 'workspaceId'].sort()
    )
    expect(written.orchard).toMatchObject({ format: 1, schemaMajor: 1, encoding: 'yjs-v2+deflate', workspaceId: store.workspaceId })
    expect(readFileSync(file, 'utf8')).toContain('\n  "projects": [\n')
  })

  it('[FILE-2] a legacy Pear file is imported whole and rewritten with its replica at the first change; reopening needs nothing else', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    expect(store.loadStore().projects.map((project) => project.id)).toEqual(['pear-app', 'infra'])
    store.updateProject('infra', { name: 'Infra 2' })
    const legacyView = store.loadStore()
    await store.flush()
    await store.close()
    // The replica alone carries the data: blank the plain part but keep its hash honest.
    const parsed = JSON.parse(readFileSync(file, 'utf8'))
    parsed.projects = []
    parsed.orchard.viewHash = viewHash([])
    writeFileSync(file, JSON.stringify(parsed))
    const { store: reopened } = open(file)
    expect(reopened.loadStore().projects).toEqual(legacyView.projects)
    expect(reopened.workspaceId).toBe(store.workspaceId)
  })

  it('[FILE-3] hand edits to the plain part are imported as edits on load', async () => {
    const { file } = setup(sample)
    const first = open(file).store
    first.addProjectChannel('infra', 'alerts')
    await first.close()
    const parsed = JSON.parse(readFileSync(file, 'utf8'))
    parsed.projects[0].name = 'Hand Edited'
    parsed.projects[1].channels.push('Hand Added')
    parsed.projects[1].integrations.push({ name: 'Pager', type: 'pagerduty' })
    writeFileSync(file, JSON.stringify(parsed, null, 2))
    const { store } = open(file)
    const projects = store.loadStore().projects
    expect(projects[0]!.name).toBe('Hand Edited')
    expect(projects[1]!.channels).toEqual(['general', 'alerts', 'hand-added'])
    expect(projects[1]!.integrations).toEqual([{ id: expect.any(String), name: 'Pager', type: 'pagerduty' }])
  })

  it('[FILE-3] an older Pear overwriting the file keeps our replica\'s other edits', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    await store.flush()
    // An older Pear loads the plain part, renames a project and writes the plain shape back.
    const plain = JSON.parse(readFileSync(file, 'utf8'))
    delete plain.orchard
    plain.projects[1].name = 'Infra (old Pear)'
    // Meanwhile this replica changed something else.
    store.addProjectChannel('pear-app', 'meanwhile')
    writeFileSync(file, JSON.stringify(plain, null, 2))
    await store.flush()
    const projects = store.loadStore().projects
    expect(projects[1]!.name).toBe('Infra (old Pear)')
    expect(projects[0]!.channels).toContain('meanwhile')
    expect(JSON.parse(readFileSync(file, 'utf8')).orchard).toBeDefined()
  })

  it('[FILE-4] two stores of one process saving one file keep each other\'s edits', async () => {
    const { file } = setup(sample)
    const a = open(file).store
    const b = open(file).store
    a.addProjectChannel('pear-app', 'from-a')
    b.addProjectChannel('infra', 'from-b')
    b.setActiveProject('infra')
    await a.flush()
    await b.flush()
    a.updateProject('infra', { name: 'Infra by A' })
    await a.flush()
    const { store: c } = open(file)
    const view = c.loadStore()
    expect(view.projects[0]!.channels).toContain('from-a')
    expect(view.projects[1]!.channels).toContain('from-b')
    expect(view.projects[1]!.name).toBe('Infra by A')
    expect(view.activeProjectId).toBe('infra')
    expect(existsSync(`${file}.lock`)).toBe(false)
  })

  it('[FILE-5] flush resolves once the change is on disk, written atomically', async () => {
    const { file, dir } = setup()
    const { store } = open(file, { saveDelayMs: 10_000 })
    store.addProject('Durable', '/d')
    expect(existsSync(file)).toBe(false)
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).projects[0].name).toBe('Durable')
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('[FILE-6] a byte-order mark is ignored', () => {
    const { file } = setup('\ufeff' + sample)
    const { store } = open(file)
    expect(store.problems).toEqual([])
    expect(store.loadStore().projects).toHaveLength(2)
  })

  it('[FILE-7] an unreadable file never throws: it is reported, kept aside and loads empty', async () => {
    const { file, dir } = setup('{"projects": [ {"id": "half')
    const { store, logger } = open(file)
    const events: string[] = []
    store.on('error', (problem) => events.push(problem.kind))
    expect(store.loadStore()).toEqual({ projects: [], activeProjectId: null })
    expect(store.problems).toEqual([
      expect.objectContaining({ kind: 'unreadable-file', file, message: expect.stringContaining('not valid JSON'), preservedAt: expect.any(String) })
    ])
    expect(logger.lines[0]).toContain(file)
    expect(asides(dir)).toHaveLength(1)
    expect(readFileSync(join(dir, asides(dir)[0]!), 'utf8')).toBe('{"projects": [ {"id": "half')
    store.addProject('New', '/n')
    await store.flush()
    expect(asides(dir)).toHaveLength(1)
    expect(events).toEqual([])
  })

  it('[FILE-7] a torn Orchard file is salvaged from its intact replica', async () => {
    const { file } = setup(sample)
    const first = open(file).store
    first.addProjectChannel('infra', 'salvaged')
    await first.close()
    const text = readFileSync(file, 'utf8')
    const torn = text.slice(0, text.indexOf('"viewHash"'))
    writeFileSync(file, torn)
    const { store } = open(file)
    expect(store.problems[0]).toMatchObject({ kind: 'unreadable-file', message: expect.stringContaining('Recovered the workspace replica') })
    expect(store.loadStore().projects.map((project) => project.channels)).toEqual([
      ['general', 'frontend', 'release-notes'],
      ['general', 'salvaged']
    ])
    expect(store.workspaceId).toBe(first.workspaceId)
  })

  it('[FILE-8] wrong field types are reported, the file is copied aside, the rest loads', async () => {
    const bad = JSON.parse(sample)
    bad.activeProjectId = 5
    bad.projects.push({ id: 'broken', name: 'Broken', roots: 'not-a-list' }, { id: 7, name: 'Mistyped id' })
    const original = JSON.stringify(bad, null, 2)
    const { file, dir } = setup(original)
    const { store } = open(file)
    expect(store.loadStore().projects.map((project) => project.id)).toEqual(['pear-app', 'infra'])
    expect(store.loadStore().activeProjectId).toBeNull()
    expect(store.problems.map((problem) => problem.kind)).toEqual(['invalid-entries', 'invalid-entries'])
    expect(store.problems[0]!.message).toContain('"activeProjectId" is a number')
    expect(asides(dir)).toHaveLength(1)
    expect(readFileSync(join(dir, asides(dir)[0]!), 'utf8')).toBe(original)
    store.addProjectChannel('infra', 'x')
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).orchard.quarantine).toHaveLength(2)
  })

  it('[PEAR-12] rejected projects are kept in quarantine across saves, never dropped', async () => {
    const bad = JSON.parse(sample)
    bad.projects.push({ id: 'rootless', name: 'Rootless', roots: [], teamNote: 'precious' })
    const { file } = setup(JSON.stringify(bad))
    const first = open(file).store
    first.addProjectChannel('infra', 'x')
    await first.close()
    const second = open(file).store
    second.updateProject('infra', { name: 'y' })
    await second.close()
    const written = JSON.parse(readFileSync(file, 'utf8'))
    expect(written.projects.map((project: { id: string }) => project.id)).toEqual(['pear-app', 'infra'])
    expect(written.orchard.quarantine).toEqual([{ id: 'rootless', name: 'Rootless', roots: [], teamNote: 'precious' }])
    // projects: {} instead of a list: reported, nothing else lost
    const { file: other } = setup(JSON.stringify({ projects: { a: 1 }, activeProjectId: 'x' }))
    const { store } = open(other)
    expect(store.problems[0]!.message).toContain('"projects" is a object, not a list')
    expect(store.loadStore().activeProjectId).toBe('x')
  })

  it('[DOC-4] a file from a newer Orchard is shown read-only and never rewritten', async () => {
    const { file: source } = setup(sample)
    const writer = open(source).store
    writer.addProjectChannel('infra', 'x')
    await writer.close()
    const newer = JSON.parse(readFileSync(source, 'utf8'))
    newer.orchard.schemaMajor = 2
    const text = JSON.stringify(newer, null, 2)
    const { file } = setup(text)
    const { store } = open(file)
    expect(store.readOnlyReason).toMatch(/newer Orchard.*read-only.*update Orchard/)
    expect(store.problems[0]!.kind).toBe('newer-schema')
    expect(store.loadStore().projects.map((project) => project.name)).toEqual(['Pear App', 'Infra'])
    expect(() => store.addProject('x', '/x')).toThrow(ReadOnlyWorkspaceError)
    expect(() => store.saveStore(store.loadStore())).toThrow(/read-only here/)
    store.setActiveProject('infra')
    await store.flush()
    expect(readFileSync(file, 'utf8')).toBe(text)
  })

  it('[FILE-9] a file of another workspace is kept aside, not merged', async () => {
    const { file, dir } = setup(sample)
    const first = open(file).store
    first.addProjectChannel('infra', 'x')
    const firstId = first.workspaceId
    await first.close()
    const doc = new Y.Doc({ guid: 'another-workspace' })
    const { store } = open(file, { doc })
    expect(store.problems[0]).toMatchObject({ kind: 'workspace-mismatch', message: expect.stringContaining(firstId) })
    expect(store.loadStore()).toMatchObject({ projects: [], activeProjectId: 'pear-app', relayWorkspace: { id: 'rw_123' } })
    expect(asides(dir).some((name) => name.includes(`workspace-${firstId}`))).toBe(true)
  })

  it('[FILE-2] the snapshot text round-trips through the pure codec', () => {
    const outcome = parseSnapshot(sample)
    expect(outcome.ok).toBe(true)
    if (outcome.ok) expect(outcome.snapshot.orchard).toBeUndefined()
    expect(parseSnapshot('')).toEqual({ ok: false, error: 'the file is empty' })
    expect(parseSnapshot('[]')).toEqual({ ok: false, error: 'its top level is not a JSON object' })
  })
})

describe('joining with a legacy file', () => {
  it('[FILE-10] a joiner\'s legacy projects are kept aside, not pushed into the shared workspace', () => {
    const { file, dir } = setup(sample)
    const doc = new Y.Doc({ guid: 'joined-workspace' })
    const { store, logger } = open(file, { doc, importLegacyProjects: false })
    expect(store.loadStore()).toMatchObject({ projects: [], activeProjectId: 'pear-app', relayWorkspace: { id: 'rw_123' } })
    expect(doc.getMap('projects').size).toBe(0)
    const kept = asides(dir).find((name) => name.includes('before-join'))
    expect(kept).toBeDefined()
    expect(readFileSync(join(dir, kept!), 'utf8')).toBe(sample)
    expect(logger.lines.join('\n')).toMatch(/2 local project\(s\) were not added to workspace joined-workspace/)
  })

  it('[LOCAL-1] local top-level values are kept in the file and never shared', async () => {
    const { file } = setup(sample)
    const { store } = open(file)
    store.setLocalValue('orchardMember', { memberId: 'm1', role: 'viewer' })
    await store.flush()
    expect(JSON.parse(readFileSync(file, 'utf8')).orchardMember).toEqual({ memberId: 'm1', role: 'viewer' })
    expect(Buffer.from(Y.encodeStateAsUpdate(store.doc)).toString('latin1')).not.toContain('orchardMember')
    await store.close()
    expect(open(file).store.getLocalValue('orchardMember')).toEqual({ memberId: 'm1', role: 'viewer' })
  })
})

describe('exiting without flush', () => {
  it('[FILE-11] a process that ends without flush or close still saves its last edit', async () => {
    const { file } = setup()
    const { execFileSync } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const script = fileURLToPath(new URL('./fixtures/exit-without-flush.mjs', import.meta.url))
    // Plain Node on the built @orchard/workspace (rebuilt before the tests when a source is newer).
    execFileSync(process.execPath, [script, file], { cwd: repoRoot, env: builtEnv(), timeout: 20_000 })
    expect(JSON.parse(readFileSync(file, 'utf8')).projects.map((project: { name: string }) => project.name)).toEqual(['Saved on exit'])
  }, 30_000)
})
