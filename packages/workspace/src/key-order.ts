/**
 * PEAR-15: projects.json keeps the key order Pear would write, so a file kept in a dotfile
 * repo diffs only where something changed. The doc stores a project's fields by key and
 * cannot hold an order; the order is this file's business, taken from a template: the
 * entry the caller gave `saveStore` (Pear writes what it was given), else the entry as the
 * file last held it, in the order Pear's loader gives it (its schema's keys first, then the
 * rest as they were). Keys the template lacks (a new field) come last, as in Pear.
 */
import { isRecord } from './channel-rules.js'

/** Pear's project schema's keys, in its order: its loader puts them first (zod's object shape). */
const PEAR_PROJECT_KEYS = ['id', 'name', 'relayWorkspaceId', 'rootPath', 'roots', 'channels', 'channelPeople', 'integrations']
/** Pear's integration schema's keys, in its order. */
const PEAR_INTEGRATION_KEYS = ['id', 'name', 'type']

/** A file's project entry in the key order Pear's loader would hand it to its next save. */
export function pearLoadOrder(raw: unknown): unknown {
  if (!isRecord(raw)) return raw
  const out = hoist(raw, PEAR_PROJECT_KEYS)
  if (Array.isArray(raw.integrations)) setKey(out, 'integrations', raw.integrations.map((entry) => (isRecord(entry) ? hoist(entry, PEAR_INTEGRATION_KEYS) : entry)))
  return out
}

/**
 * `value` with its object keys in `template`'s order, at every depth (records in lists
 * follow the template's record with the same `id`). Keys only `value` has follow, in
 * `value`'s order. Returns `value` itself when nothing moves.
 */
export function orderLike<T>(value: T, template: unknown): T {
  if (template === undefined || template === value) return value
  if (Array.isArray(value)) {
    if (!Array.isArray(template)) return value
    const byId = new Map<string, unknown>()
    for (const entry of template) if (isRecord(entry) && typeof entry.id === 'string' && !byId.has(entry.id)) byId.set(entry.id, entry)
    let moved = false
    const out = value.map((entry: unknown, index) => {
      if (!isRecord(entry)) return entry
      const ordered = orderLike(entry, typeof entry.id === 'string' ? byId.get(entry.id) : template[index])
      if (ordered !== entry) moved = true
      return ordered
    })
    return (moved ? out : value) as T
  }
  if (!isRecord(value) || !isRecord(template)) return value
  const out: Record<string, unknown> = {}
  let moved = false
  const keys = Object.keys(value)
  let position = 0
  const place = (key: string): void => {
    const entry = value[key]
    const ordered = orderLike(entry, template[key])
    if (ordered !== entry || keys[position] !== key) moved = true
    position++
    setKey(out, key, ordered)
  }
  for (const key of Object.keys(template)) if (Object.hasOwn(value, key)) place(key)
  for (const key of keys) if (!Object.hasOwn(template, key)) place(key)
  return (moved ? out : value) as T
}

function hoist(record: Record<string, unknown>, first: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of first) if (Object.hasOwn(record, key)) setKey(out, key, record[key])
  for (const [key, entry] of Object.entries(record)) if (!first.includes(key)) setKey(out, key, entry)
  return out
}

/** A plain assignment of "__proto__" (a key JSON.parse can give) would set the prototype instead. */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
}
