import { describe, expect, it } from 'vitest'
import { classifyEntries, placeDuplicates, rolesAt, withDuplicates } from './duplicate-entries.js'
import type { Project } from './types.js'

const project = (id: string, name: string, more: Partial<Project> = {}): Project => ({
  id,
  name,
  relayWorkspaceId: id,
  rootPath: `/src/${name}`,
  roots: [{ id: `/src/${name}`, name, path: `/src/${name}` }],
  channels: ['general'],
  channelPeople: {},
  integrations: [],
  ...more
})

describe('which entries are duplicates (PEAR-14)', () => {
  it('[PEAR-14] with nothing to go by, the first valid entry of an id is the shared one and the later ones are duplicates, as Pear shows them', () => {
    const target = [project('a', 'one'), { id: 'a', name: '' }, project('b', 'other'), project('a', 'two'), project('a', 'three')]
    const { duplicateAt, duplicates } = classifyEntries([], target)
    // The nameless entry is not valid: it has no role here (the caller quarantines it).
    expect([...duplicateAt].sort()).toEqual([3, 4])
    expect(duplicates.map((entry) => [entry.index, (entry.entry as Project).name])).toEqual([[3, 'two'], [4, 'three']])
  })

  it('[PEAR-14] a duplicate whose shared project is gone is still a duplicate when it is the only entry of its id', () => {
    const reference = [{ entry: project('b', 'other'), duplicate: false }, { entry: project('a', 'copy'), duplicate: true }]
    // Unchanged, renamed, or moved: it pairs with the duplicate it was loaded as.
    expect([...classifyEntries(reference, [project('b', 'other'), project('a', 'copy')]).duplicateAt]).toEqual([1])
    expect([...classifyEntries(reference, [project('a', 'renamed'), project('b', 'other')]).duplicateAt]).toEqual([0])
    // An entry with an id only the reference's shared entries had is shared (e.g. a stale edit).
    expect([...classifyEntries(reference, [project('b', 'renamed')]).duplicateAt]).toEqual([])
  })

  it('[PEAR-14] entries pair by content first, so swapping the shared entry and its duplicate keeps each one\'s role', () => {
    const reference = rolesAt([project('a', 'shared'), project('a', 'copy')], [{ index: 1, entry: project('a', 'copy') }])
    expect([...classifyEntries(reference, [project('a', 'copy'), project('a', 'shared')]).duplicateAt]).toEqual([0])
    // Both edited: they pair in order.
    expect([...classifyEntries(reference, [project('a', 'shared 2'), project('a', 'copy 2')]).duplicateAt]).toEqual([1])
    // A third entry written by another process is a new duplicate; the shared role is taken.
    expect([...classifyEntries(reference, [project('a', 'shared'), project('a', 'copy'), project('a', 'third')]).duplicateAt].sort()).toEqual([1, 2])
  })

  it('[PEAR-14] a duplicate is shown at its place, but never before the shared entry of its id', () => {
    const shared = [project('q', 'first'), project('a', 'shared')]
    const placed = placeDuplicates(shared, [{ index: 1, entry: project('a', 'copy') }, { index: 9, entry: project('z', 'far') }, { index: 0, entry: { id: 'x' } }])
    expect(placed.map((entry) => [entry.entry.name, entry.duplicate])).toEqual([
      ['first', false],
      ['shared', false],
      ['copy', true],
      ['far', true]
    ])
    expect(withDuplicates(shared, [])).toBe(shared)
  })
})
