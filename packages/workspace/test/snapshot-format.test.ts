/**
 * projects.json as text (snapshot-format.ts), without a store or a disk: what a file is read
 * as, what each problem says to the user, and the exact text written. The store-level
 * behaviour (copying aside, salvaging, merging) is in snapshot-file.integration.test.ts.
 */
import { createHash } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { emptyLocalState, type LocalState } from '../src/local-state.js'
import { decodeUpdate, encodeUpdate, parseSnapshot, renderSnapshot, salvageSection, viewHash, type ParsedSnapshot } from '../src/snapshot-format.js'
import type { Project, ProjectCloudAgent } from '../src/types.js'

function parsed(text: string): ParsedSnapshot {
  const outcome = parseSnapshot(text)
  if (!outcome.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${outcome.error}`)
  return outcome.snapshot
}

const section = { format: 1, workspaceId: 'ws-1', update: 'AAAA' }

const project: Project = {
  id: 'p1',
  name: 'Site',
  relayWorkspaceId: 'p1',
  rootPath: '/src/site',
  roots: [{ id: 'r1', name: 'site', path: '/src/site' }],
  channels: ['general'],
  channelPeople: {},
  integrations: []
}

function local(overrides: Partial<LocalState> = {}): LocalState {
  return { ...emptyLocalState(), ...overrides }
}

describe('reading projects.json', () => {
  it('[FILE-6] a byte-order mark is ignored: the file reads as without it', () => {
    const text = JSON.stringify({ projects: [{ id: 'a' }], activeProjectId: 'a' })
    expect(parsed(`\ufeff${text}`)).toEqual(parsed(text))
    expect(parsed(`\ufeff${text}`).projects).toEqual([{ id: 'a' }])
  })

  it('[FILE-7] an empty, non-JSON or non-object file is reported with what is wrong, never thrown', () => {
    expect(parseSnapshot('')).toEqual({ ok: false, error: 'the file is empty' })
    expect(parseSnapshot(' \n\t')).toEqual({ ok: false, error: 'the file is empty' })
    expect(parseSnapshot('\ufeff  ')).toEqual({ ok: false, error: 'the file is empty' })
    const torn = parseSnapshot('{"projects": [')
    expect(torn.ok).toBe(false)
    expect(!torn.ok && torn.error).toMatch(/^it is not valid JSON \(.+\)$/)
    expect(parseSnapshot('[1, 2]')).toEqual({ ok: false, error: 'its top level is not a JSON object' })
    expect(parseSnapshot('null')).toEqual({ ok: false, error: 'its top level is not a JSON object' })
    expect(parseSnapshot('"text"')).toEqual({ ok: false, error: 'its top level is not a JSON object' })
  })

  it('[PEAR-12] a mistyped "projects" is reported and read as empty; the rest of the file still loads', () => {
    const snapshot = parsed(JSON.stringify({ projects: { id: 'a' }, activeProjectId: 'a', theme: 'dark' }))
    expect(snapshot.projects).toEqual([])
    expect(snapshot.projectsProblem).toBe('"projects" is a object, not a list')
    expect(snapshot.problems).toEqual(['"projects" is a object, not a list'])
    expect(snapshot.local.activeProjectId).toBe('a')
    expect(snapshot.local.topLevel).toEqual({ theme: 'dark' })
    expect(parsed(JSON.stringify({ projects: null })).problems).toEqual(['"projects" is null, not a list'])
    expect(parsed(JSON.stringify({ projects: 'x' })).problems).toEqual(['"projects" is a string, not a list'])
  })

  it('[PEAR-12] a file without "projects" has none and no problem', () => {
    const snapshot = parsed('{}')
    expect(snapshot).toEqual({ projects: [], local: emptyLocalState(), problems: [] })
    expect('projectsProblem' in snapshot).toBe(false)
    expect('orchard' in snapshot).toBe(false)
  })

  it('[PEAR-12] a mistyped activeProjectId is reported and read as null', () => {
    expect(parsed('{"activeProjectId": 5}')).toMatchObject({ local: { activeProjectId: null }, problems: ['"activeProjectId" is a number; reading it as null'] })
    expect(parsed('{"activeProjectId": ["a"]}').problems).toEqual(['"activeProjectId" is a list; reading it as null'])
    expect(parsed('{"activeProjectId": null}')).toMatchObject({ local: { activeProjectId: null }, problems: [] })
    expect(parsed('{"activeProjectId": "p"}')).toMatchObject({ local: { activeProjectId: 'p' }, problems: [] })
  })

  it('[LOCAL-1] relayWorkspace is kept as found, unknown top-level keys verbatim, and neither is a project field', () => {
    const relay = { id: ' ws ', authKey: 'k', extra: [1] }
    const snapshot = parsed(JSON.stringify({ projects: [], relayWorkspace: relay, activeProjectId: null, theme: { a: 1 }, n: 0, orchard: section }))
    expect(snapshot.local.relayWorkspace).toEqual(relay)
    expect(snapshot.local.topLevel).toEqual({ theme: { a: 1 }, n: 0 })
    expect(parsed(JSON.stringify({ relayWorkspace: 'legacy' })).local.relayWorkspace).toBe('legacy')
    expect('relayWorkspace' in parsed('{}').local).toBe(false)
  })

  it('[FILE-1] the orchard section is read with defaults for the fields an older writer left out', () => {
    expect(parsed(JSON.stringify({ orchard: section })).orchard).toEqual({
      format: 1,
      workspaceId: 'ws-1',
      schemaMajor: 1,
      encoding: 'yjs-v2+deflate',
      update: 'AAAA',
      viewHash: '',
      localRoots: {},
      localFields: {},
      quarantine: [],
      duplicates: []
    })
    const full = { ...section, schemaMajor: 3, encoding: 'yjs-v2', viewHash: 'h', localRoots: {}, localFields: {}, quarantine: [{ id: '' }] }
    expect(parsed(JSON.stringify({ orchard: full })).orchard).toMatchObject({ schemaMajor: 3, encoding: 'yjs-v2', viewHash: 'h', quarantine: [{ id: '' }] })
    // Wrong types fall back to the defaults rather than reaching the store.
    const odd = { ...section, schemaMajor: '3', encoding: 'gzip', viewHash: 7, localFields: 'x', quarantine: { a: 1 } }
    expect(parsed(JSON.stringify({ orchard: odd })).orchard).toMatchObject({ schemaMajor: 1, encoding: 'yjs-v2+deflate', viewHash: '', localFields: {}, quarantine: [] })
  })

  it('[FILE-1] an unusable orchard section is reported and ignored; the plain part still loads', () => {
    for (const [orchard, problem] of [
      ['v1', '"orchard" is a string, not an object; ignoring it'],
      [null, '"orchard" is null, not an object; ignoring it'],
      [[1], '"orchard" is a list, not an object; ignoring it'],
      [{ workspaceId: 'w', update: 'u' }, '"orchard" is missing its format, workspaceId or update; ignoring it'],
      [{ format: 1, update: 'u' }, '"orchard" is missing its format, workspaceId or update; ignoring it'],
      [{ format: 1, workspaceId: 'w' }, '"orchard" is missing its format, workspaceId or update; ignoring it'],
      [{ format: '1', workspaceId: 'w', update: 'u' }, '"orchard" is missing its format, workspaceId or update; ignoring it']
    ] as const) {
      const snapshot = parsed(JSON.stringify({ projects: [{ id: 'a' }], orchard }))
      expect(snapshot.problems, JSON.stringify(orchard)).toEqual([problem])
      expect(snapshot.orchard).toBeUndefined()
      expect(snapshot.projects).toEqual([{ id: 'a' }])
      expect(snapshot.local.topLevel).toEqual({})
    }
  })

  it('[PEAR-14] [FILE-1] the duplicates list is read entry by entry: a well-formed one is kept, anything else is dropped', () => {
    const duplicates = [
      { index: 0, entry: { id: 'a', name: 'First' } },
      { index: 2, entry: null },
      'junk',
      null,
      { index: '3', entry: { id: 'b' } },
      { index: 1.5, entry: { id: 'c' } },
      { index: -1, entry: { id: 'd' } },
      { index: 4 }
    ]
    expect(parsed(JSON.stringify({ orchard: { ...section, duplicates } })).orchard?.duplicates).toEqual([
      { index: 0, entry: { id: 'a', name: 'First' } },
      { index: 2, entry: null }
    ])
    expect(parsed(JSON.stringify({ orchard: { ...section, duplicates: { index: 0 } } })).orchard?.duplicates).toEqual([])
  })

  it('[PEAR-12] quarantined entries come back as this machine\'s local state', () => {
    const quarantine = [{ id: 5 }, 'junk']
    expect(parsed(JSON.stringify({ orchard: { ...section, quarantine } })).local.quarantine).toEqual(quarantine)
  })

  it('[LOCAL-2] local root paths are read per project, keeping only string paths', () => {
    const localRoots = { p1: { r1: '/here', r2: 5 }, p2: { r3: null }, p3: 'x', p4: { r4: '/there' } }
    const snapshot = parsed(JSON.stringify({ orchard: { ...section, localRoots } }))
    expect(snapshot.orchard!.localRoots).toEqual({ p1: { r1: '/here' }, p4: { r4: '/there' } })
    expect(snapshot.local.projects).toEqual({ p1: { roots: { r1: '/here' } }, p4: { roots: { r4: '/there' } } })
    expect(parsed(JSON.stringify({ orchard: { ...section, localRoots: ['x'] } })).orchard!.localRoots).toEqual({})
  })

  it('[LOCAL-3] a cloud agent is read per project, null included, beside the local roots', () => {
    const agent = { sandboxId: 's', mountPath: '/mnt' }
    const localFields = { p1: { cloudAgent: agent }, p2: { cloudAgent: null }, p3: { other: 1 }, p4: 'x' }
    const snapshot = parsed(JSON.stringify({ orchard: { ...section, localRoots: { p1: { r1: '/here' } }, localFields } }))
    expect(snapshot.local.projects).toEqual({ p1: { roots: { r1: '/here' }, cloudAgent: agent }, p2: { cloudAgent: null } })
  })
})

describe('writing projects.json', () => {
  const update = new Uint8Array([1, 2, 3, 250])

  it('[FILE-1] the file is Pear\'s plain shape, 2-space JSON with a final newline, plus the orchard section', () => {
    const text = renderSnapshot({ projects: [project], local: local({ activeProjectId: 'p1' }), workspaceId: 'ws-1', schemaMajor: 1, update })
    expect(text.endsWith('}\n')).toBe(true)
    const file = JSON.parse(text) as Record<string, unknown>
    expect(Object.keys(file)).toEqual(['projects', 'activeProjectId', 'orchard'])
    expect(file.projects).toEqual([project])
    expect(file.activeProjectId).toBe('p1')
    expect(file.orchard).toEqual({
      format: 1,
      workspaceId: 'ws-1',
      schemaMajor: 1,
      encoding: 'yjs-v2+deflate',
      update: encodeUpdate(update),
      viewHash: viewHash([project]),
      localRoots: {},
      localFields: {},
      quarantine: []
    })
    // Byte for byte what JSON.stringify gives, so a hand edit diff stays small and Pear's own save looks alike.
    expect(text).toBe(`${JSON.stringify(file, null, 2)}\n`)
  })

  it('[FILE-1] projects whose text holds "$" patterns and newlines are written verbatim', () => {
    const tricky = { ...project, name: "$& $' $` $$ \\n", channels: ['general'] }
    const text = renderSnapshot({ projects: [tricky, project], local: local(), workspaceId: 'w', schemaMajor: 1, update })
    expect((JSON.parse(text) as { projects: unknown }).projects).toEqual([tricky, project])
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`)
  })

  it('[LOCAL-1] local fields are written at the top level, unknown keys after them, the orchard section last', () => {
    const relay = { id: 'ws', createdAt: '2026-01-01T00:00:00.000Z', authKey: 'k' }
    const text = renderSnapshot({ projects: [], local: local({ activeProjectId: null, relayWorkspace: relay, topLevel: { theme: 'dark', zoom: 2 } }), workspaceId: 'w', schemaMajor: 2, update })
    const file = JSON.parse(text) as Record<string, unknown>
    expect(Object.keys(file)).toEqual(['projects', 'activeProjectId', 'relayWorkspace', 'theme', 'zoom', 'orchard'])
    expect(file).toMatchObject({ projects: [], activeProjectId: null, relayWorkspace: relay, theme: 'dark', zoom: 2, orchard: { schemaMajor: 2 } })
  })

  it('[LOCAL-2] [LOCAL-3] per-project local state is written only where there is some, a null cloud agent included', () => {
    const agent: ProjectCloudAgent = { id: 'a1', sandboxId: 's', relayfileMountPath: '/mnt', attachedAt: '2026-01-01T00:00:00.000Z', autoPullAfterRun: false }
    const projects: LocalState['projects'] = { p1: { roots: { r1: '/here' } }, p2: { roots: {} }, p3: { cloudAgent: null }, p4: {}, p5: { roots: { r5: '/x' }, cloudAgent: agent } }
    const text = renderSnapshot({ projects: [], local: local({ projects, quarantine: [{ id: 9 }] }), workspaceId: 'w', schemaMajor: 1, update })
    const orchard = (JSON.parse(text) as { orchard: Record<string, unknown> }).orchard
    expect(orchard.localRoots).toEqual({ p1: { r1: '/here' }, p5: { r5: '/x' } })
    expect(orchard.localFields).toEqual({ p3: { cloudAgent: null }, p5: { cloudAgent: agent } })
    expect(orchard.quarantine).toEqual([{ id: 9 }])
    // What is written reads back as the same local state.
    expect(parsed(text).local.projects).toEqual({ p1: { roots: { r1: '/here' } }, p3: { cloudAgent: null }, p5: { roots: { r5: '/x' }, cloudAgent: agent } })
  })

  it('[PEAR-14] [FILE-1] duplicates are written in the orchard section only when there are any', () => {
    const duplicates = [{ index: 1, entry: { ...project, name: 'Second' } }]
    const withThem = renderSnapshot({ projects: [project, duplicates[0]!.entry], duplicates, local: local(), workspaceId: 'w', schemaMajor: 1, update })
    expect((JSON.parse(withThem) as { orchard: Record<string, unknown> }).orchard.duplicates).toEqual(duplicates)
    expect(parsed(withThem).orchard?.duplicates).toEqual(duplicates)
    const without = renderSnapshot({ projects: [project], duplicates: [], local: local(), workspaceId: 'w', schemaMajor: 1, update })
    expect('duplicates' in (JSON.parse(without) as { orchard: Record<string, unknown> }).orchard).toBe(false)
  })

  it('[FILE-3] viewHash is the sha256 (base64url) of the projects exactly as written, so any hand edit changes it', () => {
    const text = renderSnapshot({ projects: [project], local: local(), workspaceId: 'w', schemaMajor: 1, update })
    const expected = createHash('sha256').update(JSON.stringify([project], null, 2)).digest('base64url')
    expect(viewHash([project])).toBe(expected)
    expect(parsed(text).orchard!.viewHash).toBe(expected)
    expect(viewHash([{ ...project, name: 'Site ' }])).not.toBe(expected)
  })

  it('[FILE-2] the replica is deflated, then base64; an undeflated "yjs-v2" update is read too', () => {
    const big = new Uint8Array(4_000).fill(7)
    const encoded = encodeUpdate(big)
    expect(encoded).toBe(Buffer.from(deflateRawSync(big, { level: 1 })).toString('base64'))
    expect(encoded.length).toBeLessThan(100)
    expect(decodeUpdate({ update: encoded, encoding: 'yjs-v2+deflate' })).toEqual(big)
    expect(decodeUpdate({ update: Buffer.from(update).toString('base64'), encoding: 'yjs-v2' })).toEqual(update)
    expect(decodeUpdate({ update: Buffer.from(update).toString('base64'), encoding: 'yjs-v2' })).toBeInstanceOf(Uint8Array)
    expect(() => decodeUpdate({ update: Buffer.from(update).toString('base64'), encoding: 'yjs-v2+deflate' })).toThrow()
  })
})

describe('salvaging a torn file', () => {
  it('[FILE-7] the update, its encoding and the workspace id are found by key in text JSON.parse rejects', () => {
    const text = renderSnapshot({ projects: [project], local: local(), workspaceId: 'ws-9', schemaMajor: 1, update: new Uint8Array([9, 9]) })
    // Torn after the orchard section's update: the plain part is gone, the replica is not.
    const torn = `{"projects": [ {"id": ${text.slice(text.indexOf('"orchard"'), text.indexOf('"viewHash"'))}`
    expect(salvageSection(torn)).toEqual({ update: encodeUpdate(new Uint8Array([9, 9])), encoding: 'yjs-v2+deflate', workspaceId: 'ws-9' })
    expect(salvageSection('{"update" :  "QUJD+/==", "encoding":"yjs-v2"')).toEqual({ update: 'QUJD+/==', encoding: 'yjs-v2', workspaceId: '' })
  })

  it('[FILE-7] keys are found with any spacing around the colon, none included', () => {
    const text = '{"orchard": {"workspaceId" :"ws-9", "encoding" : "yjs-v2", "update":"AAAA", "viewHash": "'
    expect(salvageSection(text)).toEqual({ update: 'AAAA', encoding: 'yjs-v2', workspaceId: 'ws-9' })
    expect(salvageSection('{"workspaceId":"ws-1","encoding":\t"yjs-v2","update":"AAAA"')).toEqual({ update: 'AAAA', encoding: 'yjs-v2', workspaceId: 'ws-1' })
  })

  it('[FILE-7] without an update string there is nothing to salvage', () => {
    expect(salvageSection('{"projects": [')).toBeUndefined()
    expect(salvageSection('{"update": ""}')).toBeUndefined()
    expect(salvageSection('{"update": 5, "workspaceId": "w"}')).toBeUndefined()
  })
})
