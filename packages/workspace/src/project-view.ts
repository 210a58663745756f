/**
 * Reading a project record out of the doc. Concurrent edits can leave a record that no
 * single replica wrote (two roots with one path, a channel twice, every root removed);
 * this read applies Pear's rules again so every replica reads the same valid project
 * (MERGE-2, MERGE-6, MERGE-7) and the view always satisfies PEAR-1..PEAR-8.
 */
import * as Y from 'yjs'
import { KNOWN_PROJECT_KEYS, PREFIX, PROJECT_KEY, projectParts, type RootRecord } from './doc-layout.js'
import { isRecord, normalizeChannels, normalizePeopleList } from './channel-rules.js'
import type { Project, ProjectHost, ProjectIntegration, ProjectRoot } from './types.js'

/** A project as the shared doc holds it: root paths as created, no machine-local fields. */
export type SharedProject = Readonly<Project>

export function readProject(id: string, map: Y.Map<unknown>): SharedProject | null {
  const name = map.get(PROJECT_KEY.name)
  if (typeof name !== 'string' || name.length === 0) return null
  const parts = projectParts(map)

  const records = parts.roots.toArray()
  const roots = liveRoots(records, (rootId) => map.has(PREFIX.rootRemoved + rootId))
  if (roots.length === 0) return null

  const channels = normalizeChannels(parts.channels.toArray())
  const project: Project = {
    id,
    name,
    relayWorkspaceId: nonEmptyString(map.get(PROJECT_KEY.relayWorkspaceId)) ?? id,
    rootPath: resolveRootPath(stringOr(map.get(PROJECT_KEY.rootPath), ''), roots, records),
    roots,
    channels,
    channelPeople: readChannelPeople(map, channels),
    integrations: readIntegrations(parts.integrations)
  }
  const mode = map.get(PROJECT_KEY.cloudAgentWorkspaceMode)
  if (mode !== undefined) project.cloudAgentWorkspaceMode = mode as Project['cloudAgentWorkspaceMode']
  const proactive = map.get(PROJECT_KEY.proactiveAgents)
  if (proactive !== undefined) project.proactiveAgents = proactive
  const host = map.get(PROJECT_KEY.host)
  if (isRecord(host) && typeof host.instanceId === 'string') project.host = host as unknown as ProjectHost
  const extras: string[] = []
  for (const key of map.keys()) if (key.startsWith(PREFIX.extra)) extras.push(key)
  for (const key of extras.sort()) {
    const name = key.slice(PREFIX.extra.length)
    if (!KNOWN_PROJECT_KEYS.has(name)) project[name] = map.get(key)
  }
  return project
}

/**
 * MERGE-6/MERGE-7: roots minus removed ones, deduped by path (first in doc order wins).
 * If concurrent removals took every root, the first root in doc order stays, so a project
 * never vanishes because two people each removed a different one of its roots.
 */
export function liveRoots(records: RootRecord[], isRemoved: (rootId: string) => boolean): ProjectRoot[] {
  const valid = records.filter(isRootRecord)
  const live = valid.filter((root) => !isRemoved(root.id))
  const chosen = live.length > 0 ? live : valid.slice(0, 1)
  return dedupeRoots(chosen.map((root) => ({ id: root.id, name: root.name, path: root.path })))
}

export function dedupeRoots(roots: ProjectRoot[]): ProjectRoot[] {
  const paths = new Set<string>()
  const ids = new Set<string>()
  const out: ProjectRoot[] = []
  for (const root of roots) {
    if (paths.has(root.path) || ids.has(root.id)) continue
    paths.add(root.path)
    ids.add(root.id)
    out.push(root)
  }
  return out
}

/**
 * MERGE-8: rootPath names the primary root by its path. If that root was removed, the
 * first live root is primary (Pear's removeProjectRoot rule, applied on read so it also
 * holds after a merge). A rootPath that never named a root is kept as written (PEAR-3).
 */
function resolveRootPath(rootPath: string, roots: ProjectRoot[], records: RootRecord[]): string {
  const first = roots[0]?.path ?? ''
  if (!rootPath) return first
  if (roots.some((root) => root.path === rootPath)) return rootPath
  const namedRemoved = records.some((root) => isRootRecord(root) && root.path === rootPath)
  return namedRemoved ? first : rootPath
}

function readChannelPeople(map: Y.Map<unknown>, channels: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const channel of channels) {
    const people = normalizePeopleList(map.get(PREFIX.people + channel))
    if (people.length > 0) out[channel] = people
  }
  return out
}

function readIntegrations(array: Y.Array<Y.Map<unknown>>): ProjectIntegration[] {
  const seen = new Set<string>()
  const out: ProjectIntegration[] = []
  for (const entry of array) {
    if (!(entry instanceof Y.Map)) continue
    const value = entry.toJSON() as Record<string, unknown>
    const id = value.id
    const name = value.name
    if (typeof id !== 'string' || !id || seen.has(id)) continue
    if (typeof name !== 'string' || !name) continue
    seen.add(id)
    out.push({ ...value, id, name, type: nonEmptyString(value.type) ?? 'custom' })
  }
  return out
}

function isRootRecord(value: unknown): value is RootRecord {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.name === 'string' &&
    typeof value.path === 'string' &&
    value.path.length > 0
  )
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback
}
