/**
 * Pear's normalization rules, reproduced from Pear's src/shared/schemas/project.ts and
 * src/main/store.ts (zod 3, as Pear uses it) so a project reads the same in Pear and in
 * Orchard. Each rule has a SPEC id (PEAR-n); the two places Orchard deliberately differs
 * are PEAR-9 (stable integration ids) and PEAR-12 (nothing readable is dropped).
 */
import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import { z } from 'zod'
import type { Project, ProjectIntegration, ProjectRoot, RelayWorkspaceRecord } from './types.js'
import { isRecord, normalizeChannelName, normalizeChannels, normalizePeopleList } from './channel-rules.js'

// Kept here too so Pear-rule callers import one module; they live in channel-rules.ts so the
// read path (project-view, WorkspaceModel) has no node: imports and runs in a browser.
export { isRecord, normalizeChannelName, normalizeChannels, normalizePeopleList }

/** The root name Pear's loader derives from a path (schemas/project.ts). */
export function schemaRootName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() || path
}

/** The root name Pear's addProject/addProjectRoot derive (node's basename). */
export function defaultRootName(path: string): string {
  return basename(path) || path
}

export const ChannelsSchema = z.unknown().transform(normalizeChannels)
export const PeopleListSchema = z.unknown().transform(normalizePeopleList)

/** PEAR-2: a root needs a non-empty path; id defaults to the path, name to its last segment. */
export const ProjectRootSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    path: z.string().min(1)
  })
  .passthrough()
  .transform(
    (value): ProjectRoot => ({
      id: value.id?.trim() || value.path,
      name: value.name?.trim() || schemaRootName(value.path),
      path: value.path
    })
  )

/**
 * PEAR-8: an integration needs a non-blank name; type defaults to 'custom'; unknown keys
 * survive. The id default is PEAR-9's, applied before this schema runs (see
 * withStableIntegrationIds); the random fallback below only fires for direct callers.
 */
export const ProjectIntegrationSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().transform((value) => value.trim()),
    type: z.string().optional()
  })
  .passthrough()
  .refine((value) => value.name.length > 0, { message: 'integration name is required' })
  .transform(
    (value): ProjectIntegration => ({
      ...value,
      id: value.id?.trim() || crypto.randomUUID(),
      name: value.name,
      type: value.type?.trim() || 'custom'
    })
  )

/**
 * PEAR-9 (Orchard differs from Pear): Pear gives an integration without an id a fresh
 * random id on every load, so the same file reads differently each time and two replicas
 * importing it disagree. Orchard derives the id from the project id, the position and
 * the entry's content, so every load and every replica gets the same one.
 */
export function stableIntegrationId(projectId: string, index: number, raw: unknown): string {
  const hex = createHash('sha256')
    .update(`${projectId}\u0000${index}\u0000${canonicalJson(raw)}`)
    .digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function withStableIntegrationIds(projectId: string, integrations: unknown[]): unknown[] {
  return integrations.map((entry, index) => {
    if (!isRecord(entry)) return entry
    const id = entry.id
    if (typeof id === 'string' && id.trim()) return entry
    if (id !== undefined && typeof id !== 'string') return entry // Pear drops it; so do we
    return { ...entry, id: stableIntegrationId(projectId, index, entry) }
  })
}

function dedupeRoots(roots: ProjectRoot[]): ProjectRoot[] {
  const seen = new Set<string>()
  const out: ProjectRoot[] = []
  for (const root of roots) {
    if (seen.has(root.path)) continue
    seen.add(root.path)
    out.push(root)
  }
  return out
}

/** PEAR-6: channelPeople keys are slugged and limited to the project's channels. */
export function buildChannelPeople(raw: unknown, channels: string[]): Record<string, string[]> {
  if (!isRecord(raw)) return {}
  const channelSet = new Set(channels)
  const result: Record<string, string[]> = {}
  for (const [rawChannel, rawPeople] of Object.entries(raw)) {
    const channel = normalizeChannelName(rawChannel)
    if (!channel || !channelSet.has(channel)) continue
    const people = normalizePeopleList(rawPeople)
    if (people.length > 0) result[channel] = people
  }
  return result
}

/**
 * PEAR-1..PEAR-8 for one project: the shape Pear's loader gives it, or an explanation of
 * why Pear would drop it (PEAR-3: no usable root; PEAR-1: id/name missing or mistyped).
 */
export const ProjectSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    relayWorkspaceId: z.string().optional(),
    rootPath: z.string().optional(),
    roots: z.array(z.unknown()).optional(),
    channels: z.unknown().optional(),
    channelPeople: z.unknown().optional(),
    integrations: z.array(z.unknown()).optional()
  })
  .passthrough()
  .transform((value, ctx): Project => {
    const roots = dedupeRoots(
      (value.roots ?? []).flatMap((entry) => {
        const parsed = ProjectRootSchema.safeParse(entry)
        return parsed.success ? [parsed.data] : []
      })
    )
    const rootPath = value.rootPath?.trim() || roots[0]?.path || ''
    if (!rootPath || roots.length === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'project has no usable root' })
      return z.NEVER
    }
    const channels = normalizeChannels(value.channels)
    const integrations = withStableIntegrationIds(value.id, value.integrations ?? []).flatMap((entry) => {
      const parsed = ProjectIntegrationSchema.safeParse(entry)
      return parsed.success ? [parsed.data] : []
    })
    return {
      ...value,
      id: value.id,
      name: value.name,
      relayWorkspaceId: value.relayWorkspaceId?.trim() || value.id,
      rootPath,
      roots,
      channels,
      channelPeople: buildChannelPeople(value.channelPeople, channels),
      integrations
    }
  })

export type ProjectParse = { ok: true; project: Project } | { ok: false; reason: string }

export function parseProject(raw: unknown): ProjectParse {
  const parsed = ProjectSchema.safeParse(raw)
  if (parsed.success) return { ok: true, project: parsed.data }
  return { ok: false, reason: parsed.error.issues.map((issue) => describeIssue(issue)).join('; ') }
}

function describeIssue(issue: z.ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
  return `${where}${issue.message}`
}

/** PEAR-10: Pear's relayWorkspace record rules (trimmed id required, ISO createdAt, no trailing slash). */
export function normalizeRelayWorkspace(value: unknown): RelayWorkspaceRecord | undefined {
  if (!isRecord(value)) return undefined
  const id = typeof value.id === 'string' ? value.id.trim() : ''
  if (!id) return undefined
  const createdAt = typeof value.createdAt === 'string' ? value.createdAt.trim() : ''
  const createdAtTime = createdAt ? Date.parse(createdAt) : Number.NaN
  const apiUrl = typeof value.apiUrl === 'string' ? value.apiUrl.trim().replace(/\/+$/, '') : ''
  const authKey = typeof value.authKey === 'string' ? value.authKey.trim() : ''
  return {
    id,
    createdAt: Number.isNaN(createdAtTime) ? new Date(0).toISOString() : new Date(createdAtTime).toISOString(),
    ...(apiUrl ? { apiUrl } : {}),
    ...(authKey ? { authKey } : {})
  }
}


/** JSON with object keys sorted: equal values give equal strings on every replica. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (isRecord(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const entry = value[key]
      if (entry !== undefined) out[key] = sortKeys(entry)
    }
    return out
  }
  return value
}
