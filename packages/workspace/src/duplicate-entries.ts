/**
 * PEAR-14: which entries of a `projects` array are the shared project of their id, and
 * which are duplicates this machine keeps beside the doc (the doc holds one project per id).
 *
 * An entry's role cannot be read off its position ("the first entry with an id is the
 * shared one"). Once the shared project is removed (by another replica, or by a write
 * that removed it), a duplicate is the first entry with its id: read by position it is
 * taken for the removed project and dropped with it (MERGE-4) at the next save, merge or
 * restart. So a projects array is always read against the array it was made from (the
 * `reference`: what loadStore handed out, what this store or another wrote last), whose
 * roles are known, and each entry keeps the role of the entry it pairs with.
 */
import { orderLike } from './key-order.js'
import { canonicalJson, isRecord, parseProject } from './pear-rules.js'
import type { DuplicateEntry } from './local-state.js'
import type { Project } from './types.js'

/** An entry of a projects array with its role. */
export interface RoledEntry {
  entry: unknown
  duplicate: boolean
}

export interface Classified {
  /** Positions (in the target) of the entries that are duplicates; every other entry is shared or new. */
  duplicateAt: ReadonlySet<number>
  /** The duplicates, whole, at their positions in the target. */
  duplicates: DuplicateEntry[]
}

/**
 * The projects with the duplicate entries back where Pear shows them: at their recorded
 * position, but never before the shared entry of their id, so the first entry of an id
 * is the shared one whenever the doc has that project.
 */
export function placeDuplicates<T extends Readonly<Project>>(projects: readonly T[], duplicates: readonly DuplicateEntry[]): Array<{ entry: T | Project; duplicate: boolean }> {
  const out: Array<{ entry: T | Project; duplicate: boolean }> = projects.map((entry) => ({ entry, duplicate: false }))
  if (duplicates.length === 0) return out
  for (const { index, entry } of [...duplicates].sort((a, b) => a.index - b.index)) {
    const parsed = parseProject(entry)
    if (!parsed.ok) continue
    const sibling = out.findIndex((placed) => !placed.duplicate && placed.entry.id === parsed.project.id)
    // PEAR-15: in the key order it was given in, as Pear writes what it is given.
    out.splice(Math.max(Math.min(index, out.length), sibling + 1), 0, { entry: orderLike(parsed.project, entry), duplicate: true })
  }
  return out
}

/** PEAR-14: the projects with the duplicate entries back where Pear shows them. */
export function withDuplicates<T extends Readonly<Project>>(projects: readonly T[], duplicates: readonly DuplicateEntry[]): ReadonlyArray<T | Project> {
  if (duplicates.length === 0) return projects
  return placeDuplicates(projects, duplicates).map((placed) => placed.entry)
}

/**
 * Gives each entry of `target` the role of the entry of `reference` it pairs with. Only
 * ids that occur twice in the target, or that the reference holds a duplicate of, are
 * looked at closely (a 10,000-project save is not parsed for this); an entry with any
 * other id is shared. Entries of one id pair first by content (as Pear reads them), then
 * in order; an entry left over is new: the first new one is the shared one if no entry
 * of its id already is, every other is a duplicate. Entries Pear's rules reject keep no
 * role here (the caller rejects them).
 */
export function classifyEntries(reference: readonly RoledEntry[], target: readonly unknown[]): Classified {
  const counts = new Map<string, number>()
  for (const raw of target) {
    const id = idOf(raw)
    if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  const referenceDuplicates = new Set(reference.filter((entry) => entry.duplicate).map((entry) => idOf(entry.entry)))
  const closely = [...counts].filter(([id, count]) => count > 1 || referenceDuplicates.has(id)).map(([id]) => id)
  const duplicateAt = new Set<number>()
  if (closely.length === 0) return { duplicateAt, duplicates: [] }

  const wanted = new Set(closely)
  const references = new Map<string, Array<{ duplicate: boolean; key: string | undefined }>>()
  for (const { entry, duplicate } of reference) {
    const id = idOf(entry)
    if (id === undefined || !wanted.has(id)) continue
    const list = references.get(id) ?? []
    list.push({ duplicate, key: keyOf(entry) })
    references.set(id, list)
  }
  const entries = new Map<string, Array<{ index: number; key: string }>>()
  for (const [index, raw] of target.entries()) {
    const id = idOf(raw)
    if (id === undefined || !wanted.has(id)) continue
    const key = keyOf(raw)
    if (key === undefined) continue
    const list = entries.get(id) ?? []
    list.push({ index, key })
    entries.set(id, list)
  }

  for (const id of closely) {
    const refs = references.get(id) ?? []
    const free = refs.map(() => true)
    const role = new Map<number, boolean>()
    const list = entries.get(id) ?? []
    for (const { index, key } of list) {
      const match = refs.findIndex((ref, at) => free[at] && ref.key === key)
      if (match < 0) continue
      free[match] = false
      role.set(index, (refs[match] as { duplicate: boolean }).duplicate)
    }
    let next = 0
    for (const { index } of list) {
      if (role.has(index)) continue
      while (next < refs.length && !free[next]) next++
      if (next >= refs.length) break
      free[next] = false
      role.set(index, (refs[next] as { duplicate: boolean }).duplicate)
      next++
    }
    let sharedTaken = [...role.values()].some((duplicate) => !duplicate)
    for (const { index } of list) {
      if (role.has(index)) continue
      role.set(index, sharedTaken)
      sharedTaken = true
    }
    for (const [index, duplicate] of role) if (duplicate) duplicateAt.add(index)
  }
  const duplicates = [...duplicateAt].sort((a, b) => a - b).map((index) => ({ index, entry: structuredClone(target[index]) }))
  return { duplicateAt, duplicates }
}

/** The roles of an array this store rendered, or another Orchard did: its duplicates are at the positions it recorded. */
export function rolesAt(projects: readonly unknown[], duplicates: readonly DuplicateEntry[]): RoledEntry[] {
  const at = new Set(duplicates.map((entry) => entry.index))
  return projects.map((entry, index) => ({ entry, duplicate: at.has(index) }))
}

function idOf(raw: unknown): string | undefined {
  return isRecord(raw) && typeof raw.id === 'string' ? raw.id : undefined
}

/** An entry as Pear reads it, so the same project written with other key order or defaults pairs with itself. */
function keyOf(raw: unknown): string | undefined {
  const parsed = parseProject(raw)
  return parsed.ok ? canonicalJson(parsed.project) : undefined
}
