/**
 * The edges of Pear's rules (pear-rules.ts) that src/pear-rules.test.ts leaves open: Windows
 * and root paths, entries of the wrong type, the reasons a rejected project is reported
 * with, and relay records with mistyped fields.
 */
import { describe, expect, it } from 'vitest'
import {
  ProjectIntegrationSchema,
  ProjectRootSchema,
  buildChannelPeople,
  defaultRootName,
  normalizeRelayWorkspace,
  parseProject,
  schemaRootName,
  stableIntegrationId
} from '../src/pear-rules.js'
import { parseValid, pearProject, pearRoot } from './harness/fixtures.js'

const root = pearRoot
const base = pearProject
const parse = parseValid

describe('roots', () => {
  it('[PEAR-2] a root name is the last segment of a Windows or POSIX path, or the path itself when it has none', () => {
    expect(schemaRootName('C:\\Users\\ana\\code\\pear')).toBe('pear')
    expect(schemaRootName('/home/ana/app//')).toBe('app')
    expect(schemaRootName('C:\\work\\')).toBe('work')
    expect(schemaRootName('/')).toBe('/')
    expect(schemaRootName('\\\\')).toBe('\\\\')
    expect(ProjectRootSchema.parse({ path: 'D:\\repos\\site' })).toEqual({ id: 'D:\\repos\\site', name: 'site', path: 'D:\\repos\\site' })
  })

  it('[PEAR-13] addProject names the root with node\'s basename, or the path itself for "/"', () => {
    expect(defaultRootName('/home/ana/app')).toBe('app')
    expect(defaultRootName('/home/ana/app/')).toBe('app')
    expect(defaultRootName('/')).toBe('/')
  })

  it('[PEAR-2] a blank id or name falls back to the path and its last segment; the path itself is kept as given', () => {
    expect(ProjectRootSchema.parse({ id: '   ', name: ' \t', path: ' /a/b ' })).toEqual({ id: ' /a/b ', name: 'b ', path: ' /a/b ' })
    expect(ProjectRootSchema.parse({ id: ' x ', name: ' y ', path: '/a', other: 1 })).toEqual({ id: 'x', name: 'y', path: '/a' })
  })

  it('[PEAR-3] only roots Pear accepts count: a project whose roots are all invalid is not shown, with the reason', () => {
    expect(parseProject({ ...base, roots: [{ path: '' }, { id: 5, path: '/x' }, 'nope'] })).toEqual({ ok: false, reason: 'project has no usable root' })
    // A rootPath alone is not a root.
    expect(parseProject({ ...base, roots: [], rootPath: '/x' })).toEqual({ ok: false, reason: 'project has no usable root' })
    // Deduped by exact path, keeping the first one's id and name.
    expect(parse({ ...base, roots: [root, { id: 'r2', name: 'other', path: '/home/ana/app' }, { id: 'r3', path: '/home/ana/app/' }] }).roots).toEqual([
      root,
      { id: 'r3', name: 'app', path: '/home/ana/app/' }
    ])
  })
})

describe('what a rejected project is reported with', () => {
  it('[PEAR-12] each reason names the field and what is wrong with it', () => {
    expect(parseProject({ ...base, id: '' })).toEqual({ ok: false, reason: 'id: String must contain at least 1 character(s)' })
    expect(parseProject({ ...base, name: 5 })).toEqual({ ok: false, reason: 'name: Expected string, received number' })
    expect(parseProject({ name: 'x', roots: 'none' })).toEqual({ ok: false, reason: 'id: Required; roots: Expected array, received string' })
    expect(parseProject('junk')).toEqual({ ok: false, reason: 'Expected object, received string' })
  })
})

describe('relayWorkspaceId', () => {
  it('[PEAR-1] an id that trims to nothing is its own relayWorkspaceId, untrimmed; a mistyped one is not shown', () => {
    expect(parse({ ...base, id: '  ' }).relayWorkspaceId).toBe('  ')
    expect(parse({ ...base, id: ' p1 ' }).relayWorkspaceId).toBe('p1')
    expect(parse({ ...base, id: ' p1 ', relayWorkspaceId: ' rw ' }).relayWorkspaceId).toBe('rw')
    expect(parseProject({ ...base, relayWorkspaceId: 7 }).ok).toBe(false)
  })
})

describe('integrations', () => {
  it('[PEAR-9] ids are derived only for entries that have none; a mistyped id drops the entry as Pear does', () => {
    const integrations = parse({
      ...base,
      integrations: [{ id: ' keep ', name: 'A' }, { id: 5, name: 'B' }, { name: 'C' }, 'junk', { id: '', name: 'D' }]
    }).integrations
    expect(integrations.map((entry) => entry.name)).toEqual(['A', 'C', 'D'])
    expect(integrations[0]!.id).toBe('keep')
    // Positions count every entry, dropped ones included, so an id never shifts when a neighbour is fixed.
    expect(integrations[1]!.id).toBe(stableIntegrationId('p1', 2, { name: 'C' }))
    expect(integrations[2]!.id).toBe(stableIntegrationId('p1', 4, { id: '', name: 'D' }))
  })

  it('[PEAR-9] the derived id depends on the entry\'s content, not its key order, and looks like a v8 UUID', () => {
    const a = stableIntegrationId('p', 0, { name: 'Slack', type: 'slack' })
    expect(stableIntegrationId('p', 0, { type: 'slack', name: 'Slack' })).toBe(a)
    expect(stableIntegrationId('p', 0, { name: 'Slack', type: 'chat' })).not.toBe(a)
    expect(stableIntegrationId('p', 1, { name: 'Slack', type: 'slack' })).not.toBe(a)
    // "p" + "1" must not collide with "p1" + nothing: the parts are separated.
    expect(stableIntegrationId('p1', 0, {})).not.toBe(stableIntegrationId('p', 10, {}))
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('[PEAR-8] a direct parse without an id gets a random one; a blank type is custom; unknown keys stay', () => {
    const first = ProjectIntegrationSchema.parse({ name: ' Notes ', type: '  ', extra: [1] })
    const second = ProjectIntegrationSchema.parse({ name: 'Notes', id: '   ' })
    expect(first).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Notes', type: 'custom', extra: [1] })
    expect(second.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(second.id).not.toBe(first.id)
    expect(Object.keys(ProjectIntegrationSchema.parse({ name: 'N', type: 't', id: 'i' }))).toEqual(['id', 'name', 'type'])
  })
})

describe('channel people', () => {
  it('[PEAR-6] people of a channel the project lacks, of a blank channel or of a non-object are dropped', () => {
    expect(buildChannelPeople({ '  ': ['ana'], '!!': ['ben'], ops: ['cy'] }, ['general', 'ops'])).toEqual({ ops: ['cy'] })
    expect(buildChannelPeople(null, ['general'])).toEqual({})
    expect(buildChannelPeople(['ana'], ['general'])).toEqual({})
    expect(buildChannelPeople({ general: 'ana' }, ['general'])).toEqual({})
  })
})

describe('relay workspace records', () => {
  it('[PEAR-10] mistyped fields are dropped, apiUrl and authKey trimmed, createdAt made ISO', () => {
    expect(normalizeRelayWorkspace({ id: 5 })).toBeUndefined()
    expect(normalizeRelayWorkspace('rw')).toBeUndefined()
    expect(normalizeRelayWorkspace(['rw'])).toBeUndefined()
    expect(normalizeRelayWorkspace({ id: 'rw', createdAt: 5, apiUrl: 7, authKey: 9 })).toEqual({ id: 'rw', createdAt: '1970-01-01T00:00:00.000Z' })
    expect(normalizeRelayWorkspace({ id: 'rw', createdAt: ' 2026-03-04T05:06:07Z ', apiUrl: ' https://relay.dev/v1/ ', authKey: ' key ' })).toEqual({
      id: 'rw',
      createdAt: '2026-03-04T05:06:07.000Z',
      apiUrl: 'https://relay.dev/v1',
      authKey: 'key'
    })
    expect(normalizeRelayWorkspace({ id: 'rw', createdAt: '   ', apiUrl: ' / ' })).toEqual({ id: 'rw', createdAt: '1970-01-01T00:00:00.000Z' })
    // Only trailing slashes go.
    expect(normalizeRelayWorkspace({ id: 'rw', apiUrl: 'https://x//y' })?.apiUrl).toBe('https://x//y')
  })
})
