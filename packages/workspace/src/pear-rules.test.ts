import { describe, expect, it } from 'vitest'
import { ZodError } from 'zod'
import {
  ProjectIntegrationSchema,
  normalizeChannelName,
  normalizeChannels,
  normalizePeopleList,
  normalizeRelayWorkspace,
  parseProject,
  stableIntegrationId
} from './pear-rules.js'
import { parseValid, pearProject, pearRoot } from '../test/harness/fixtures.js'

const root = pearRoot
const base = pearProject
const parse = parseValid

describe('Pear normalization', () => {
  it('[PEAR-1] id and name are required strings; relayWorkspaceId is trimmed and defaults to the id', () => {
    expect(parse(base).relayWorkspaceId).toBe('p1')
    expect(parse({ ...base, relayWorkspaceId: '  rw-9 ' }).relayWorkspaceId).toBe('rw-9')
    expect(parse({ ...base, relayWorkspaceId: '   ' }).relayWorkspaceId).toBe('p1')
    expect(parseProject({ ...base, id: '' }).ok).toBe(false)
    expect(parseProject({ ...base, name: '' }).ok).toBe(false)
    expect(parseProject({ ...base, name: 42 }).ok).toBe(false)
    expect(parseProject({ ...base, id: undefined }).ok).toBe(false)
  })

  it('[PEAR-2] a root needs a path; id defaults to the path and name to its last segment', () => {
    const project = parse({
      ...base,
      roots: [{ path: '/home/ana/code/pear/' }, { id: ' x ', name: '  Docs ', path: '/d' }, { path: '' }, { id: 5, path: '/bad' }, 'nope']
    })
    expect(project.roots).toEqual([
      { id: '/home/ana/code/pear/', name: 'pear', path: '/home/ana/code/pear/' },
      { id: 'x', name: 'Docs', path: '/d' }
    ])
  })

  it('[PEAR-3] roots dedupe by path, rootPath defaults to the first root, rootless projects are not shown', () => {
    const project = parse({ ...base, roots: [root, { ...root, id: 'r2' }], rootPath: '  ' })
    expect(project.roots).toHaveLength(1)
    expect(project.rootPath).toBe('/home/ana/app')
    expect(parse({ ...base, rootPath: ' /elsewhere ' }).rootPath).toBe('/elsewhere')
    expect(parseProject({ ...base, roots: [] })).toMatchObject({ ok: false, reason: expect.stringContaining('no usable root') })
    expect(parseProject({ ...base, roots: undefined }).ok).toBe(false)
  })

  it('[PEAR-4] channel names become ascii slugs', () => {
    expect(normalizeChannelName('  Release Notes! ')).toBe('release-notes')
    expect(normalizeChannelName('Café  Ops__Team')).toBe('cafe-ops-team')
    expect(normalizeChannelName('---')).toBe('')
    expect(normalizeChannelName('ÅNGSTRÖM')).toBe('angstrom')
  })

  it('[PEAR-5] channels dedupe after slugging and default to general', () => {
    expect(normalizeChannels(['Frontend', 'frontend', ' FRONTEND ', '', 7, 'ops'])).toEqual(['frontend', 'ops'])
    expect(normalizeChannels([])).toEqual(['general'])
    expect(normalizeChannels('general')).toEqual(['general'])
    expect(parse({ ...base, channels: ['!!!'] }).channels).toEqual(['general'])
  })

  it('[PEAR-6] channelPeople keys are slugged and limited to the project channels', () => {
    const project = parse({
      ...base,
      channels: ['general', 'Front End'],
      channelPeople: { 'FRONT END': ['ana'], ghost: ['ben'], general: [] }
    })
    expect(project.channelPeople).toEqual({ 'front-end': ['ana'] })
    expect(parse({ ...base, channelPeople: ['x'] }).channelPeople).toEqual({})
  })

  it('[PEAR-7] people lists trim, drop blanks and dedupe case-insensitively', () => {
    expect(normalizePeopleList([' ana ', 'Ben', 'ANA', '', 3, 'ben'])).toEqual(['ANA', 'ben'])
    expect(normalizePeopleList('ana')).toEqual([])
  })

  it('[PEAR-8] integrations need a name, default type custom and keep unknown keys', () => {
    const project = parse({
      ...base,
      integrations: [
        { id: 'i1', name: ' GitHub ', type: ' github ', repo: 'a/b', scope: { org: 'x' } },
        { id: 'i2', name: 'Notes' },
        { id: 'i3', name: '   ' },
        { id: 'i4', name: 9 },
        'junk'
      ]
    })
    expect(project.integrations).toEqual([
      { id: 'i1', name: 'GitHub', type: 'github', repo: 'a/b', scope: { org: 'x' } },
      { id: 'i2', name: 'Notes', type: 'custom' }
    ])
  })

  it('[PEAR-9] an integration without an id gets the same derived id on every load', () => {
    const raw = { ...base, integrations: [{ name: 'Slack', type: 'slack' }, { id: '  ', name: 'Linear' }] }
    const first = parse(raw).integrations.map((entry) => entry.id)
    const second = parse(structuredClone(raw)).integrations.map((entry) => entry.id)
    expect(first).toEqual(second)
    expect(first[0]).not.toBe(first[1])
    expect(first[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(first[0]).toBe(stableIntegrationId('p1', 0, { name: 'Slack', type: 'slack' }))
    // a different project or position gives a different id
    expect(stableIntegrationId('p2', 0, { name: 'Slack', type: 'slack' })).not.toBe(first[0])
  })

  it('[PEAR-10] relay workspace records normalize like Pear', () => {
    expect(normalizeRelayWorkspace({ id: ' rw ', createdAt: '2026-01-02', apiUrl: 'https://x.dev///', authKey: '  ' })).toEqual({
      id: 'rw',
      createdAt: '2026-01-02T00:00:00.000Z',
      apiUrl: 'https://x.dev'
    })
    expect(normalizeRelayWorkspace({ id: 'rw', createdAt: 'not a date' })?.createdAt).toBe('1970-01-01T00:00:00.000Z')
    expect(normalizeRelayWorkspace({ id: '  ' })).toBeUndefined()
    expect(normalizeRelayWorkspace(null)).toBeUndefined()
  })

  it('[PEAR-11] unknown project keys pass through normalization', () => {
    const project = parse({ ...base, teamNote: 'keep me', nested: { a: [1, 2] } })
    expect(project.teamNote).toBe('keep me')
    expect(project.nested).toEqual({ a: [1, 2] })
  })

  it('[API-8] a blank integration name is refused with the zod error Pear throws', () => {
    expect(() => ProjectIntegrationSchema.parse({ name: '  ', type: 'custom' })).toThrow(ZodError)
    expect(() => ProjectIntegrationSchema.parse({ name: '  ', type: 'custom' })).toThrow('integration name is required')
  })
})
