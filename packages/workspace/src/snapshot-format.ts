/**
 * projects.json as Orchard writes it (FILE-1): Pear's plain shape, so a Pear without
 * Orchard still reads it, plus an `orchard` section holding the replica. Pure: text in,
 * values out, and back.
 *
 *   {
 *     "projects": [...],                   Pear's view, this machine's paths
 *     "activeProjectId": "...",            local (LOCAL-1)
 *     "relayWorkspace": {...},             local (LOCAL-1)
 *     ...other top-level keys,             local, kept verbatim
 *     "orchard": {
 *       "format": 1, "workspaceId": "...", "schemaMajor": 1,
 *       "encoding": "yjs-v2+deflate",      base64(deflateRaw(Yjs V2 update))
 *       "update": "...",
 *       "viewHash": "...",                 sha256 of JSON.stringify(projects) as written
 *       "localRoots": { projectId: { rootId: path } },
 *       "localFields": { projectId: { cloudAgent } },
 *       "quarantine": [ rejected project entries, verbatim ],
 *       "duplicates": [ { index, entry } ]  only if any: which entries of
 *                                          "projects" are PEAR-14 duplicates
 *     }
 *   }
 */
import { createHash } from 'node:crypto'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { isRecord } from './pear-rules.js'
import type { DuplicateEntry, LocalProjectState, LocalState } from './local-state.js'
import type { Project, ProjectCloudAgent } from './types.js'

export const FILE_FORMAT = 1

export type UpdateEncoding = 'yjs-v2' | 'yjs-v2+deflate'

export interface OrchardSection {
  format: number
  workspaceId: string
  schemaMajor: number
  encoding: UpdateEncoding
  update: string
  viewHash: string
  localRoots: Record<string, Record<string, string>>
  localFields: Record<string, { cloudAgent?: ProjectCloudAgent | null }>
  quarantine: unknown[]
  /**
   * PEAR-14: the entries of `projects` that are duplicates kept beside the doc, at their
   * positions in it, as written. A duplicate whose shared project was removed is the first
   * entry of its id, so this is the only way a reader can tell it from that project.
   */
  duplicates: DuplicateEntry[]
}

export interface ParsedSnapshot {
  /** The `projects` array as found (raw entries; Pear's rules not yet applied). */
  projects: unknown[]
  /** Set if `projects` was present but not an array. */
  projectsProblem?: string
  local: LocalState
  orchard?: OrchardSection
  /** Problems with individual fields; the file was still readable. */
  problems: string[]
}

export type ParseOutcome = { ok: true; snapshot: ParsedSnapshot } | { ok: false; error: string }

const BOM = '\ufeff'

/** FILE-6: a BOM is ignored; anything JSON.parse rejects is reported, never thrown. */
export function parseSnapshot(text: string): ParseOutcome {
  const body = text.startsWith(BOM) ? text.slice(BOM.length) : text
  if (body.trim() === '') return { ok: false, error: 'the file is empty' }
  let raw: unknown
  try {
    raw = JSON.parse(body)
  } catch (error) {
    return { ok: false, error: `it is not valid JSON (${(error as Error).message})` }
  }
  if (!isRecord(raw)) return { ok: false, error: 'its top level is not a JSON object' }

  const problems: string[] = []
  const local: LocalState = { activeProjectId: null, projects: {}, topLevel: {}, quarantine: [], duplicates: [] }
  let projects: unknown[] = []
  let projectsProblem: string | undefined
  if (Array.isArray(raw.projects)) projects = raw.projects
  else if (raw.projects !== undefined) {
    projectsProblem = `"projects" is ${describe(raw.projects)}, not a list`
    problems.push(projectsProblem)
  }

  if (typeof raw.activeProjectId === 'string' || raw.activeProjectId === null) local.activeProjectId = raw.activeProjectId
  else if (raw.activeProjectId !== undefined) problems.push(`"activeProjectId" is ${describe(raw.activeProjectId)}; reading it as null`)

  if (raw.relayWorkspace !== undefined) local.relayWorkspace = raw.relayWorkspace as LocalState['relayWorkspace']

  for (const [key, value] of Object.entries(raw)) {
    if (key === 'projects' || key === 'activeProjectId' || key === 'relayWorkspace' || key === 'orchard') continue
    local.topLevel[key] = value
  }

  let orchard: OrchardSection | undefined
  if (raw.orchard !== undefined) {
    const section = readOrchardSection(raw.orchard)
    if (typeof section === 'string') problems.push(section)
    else {
      orchard = section
      local.quarantine = section.quarantine
      for (const [projectId, roots] of Object.entries(section.localRoots)) {
        ;(local.projects[projectId] ??= {}).roots = { ...roots }
      }
      for (const [projectId, fields] of Object.entries(section.localFields)) {
        if (isRecord(fields) && fields.cloudAgent !== undefined) (local.projects[projectId] ??= {}).cloudAgent = fields.cloudAgent
      }
    }
  }
  return { ok: true, snapshot: { projects, ...(projectsProblem ? { projectsProblem } : {}), local, ...(orchard ? { orchard } : {}), problems } }
}

function readOrchardSection(value: unknown): OrchardSection | string {
  if (!isRecord(value)) return `"orchard" is ${describe(value)}, not an object; ignoring it`
  const { format, workspaceId, schemaMajor, encoding, update, viewHash } = value
  if (typeof format !== 'number' || typeof workspaceId !== 'string' || typeof update !== 'string') {
    return '"orchard" is missing its format, workspaceId or update; ignoring it'
  }
  return {
    format,
    workspaceId,
    schemaMajor: typeof schemaMajor === 'number' ? schemaMajor : 1,
    encoding: encoding === 'yjs-v2' ? 'yjs-v2' : 'yjs-v2+deflate',
    update,
    viewHash: typeof viewHash === 'string' ? viewHash : '',
    localRoots: stringMaps(value.localRoots),
    localFields: isRecord(value.localFields) ? (value.localFields as OrchardSection['localFields']) : {},
    quarantine: Array.isArray(value.quarantine) ? value.quarantine : [],
    duplicates: duplicateEntries(value.duplicates)
  }
}

function duplicateEntries(value: unknown): DuplicateEntry[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((item) =>
    isRecord(item) && typeof item.index === 'number' && Number.isInteger(item.index) && item.index >= 0 && item.entry !== undefined
      ? [{ index: item.index, entry: item.entry }]
      : []
  )
}

function stringMaps(value: unknown): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  if (!isRecord(value)) return out
  for (const [projectId, roots] of Object.entries(value)) {
    if (!isRecord(roots)) continue
    const entries = Object.entries(roots).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    if (entries.length > 0) out[projectId] = Object.fromEntries(entries)
  }
  return out
}

export interface SnapshotInput {
  projects: ReadonlyArray<Readonly<Project>>
  /** PEAR-14: which of `projects` are duplicates, by position. */
  duplicates?: readonly DuplicateEntry[]
  local: LocalState
  workspaceId: string
  schemaMajor: number
  update: Uint8Array
}

/** FILE-1: renders the file. Projects keep Pear's 2-space layout so hand edits stay easy. */
export function renderSnapshot(input: SnapshotInput): string {
  const { local } = input
  const localRoots: OrchardSection['localRoots'] = {}
  const localFields: OrchardSection['localFields'] = {}
  for (const [projectId, state] of Object.entries(local.projects) as Array<[string, LocalProjectState]>) {
    if (state.roots && Object.keys(state.roots).length > 0) localRoots[projectId] = state.roots
    if (state.cloudAgent !== undefined) localFields[projectId] = { cloudAgent: state.cloudAgent }
  }
  // The projects are stringified once: that text is both what is written and what is hashed.
  const projectsText = JSON.stringify(input.projects, null, 2)
  const orchard: OrchardSection = {
    format: FILE_FORMAT,
    workspaceId: input.workspaceId,
    schemaMajor: input.schemaMajor,
    encoding: 'yjs-v2+deflate',
    update: encodeUpdate(input.update),
    viewHash: hashText(projectsText),
    localRoots,
    localFields,
    quarantine: local.quarantine,
    duplicates: [...(input.duplicates ?? [])]
  }
  // Written only when there are any, so a file without duplicates is as before.
  const section: Partial<OrchardSection> = { ...orchard }
  if (orchard.duplicates.length === 0) delete section.duplicates
  const file: Record<string, unknown> = {
    projects: PROJECTS_PLACEHOLDER,
    activeProjectId: local.activeProjectId,
    ...(local.relayWorkspace !== undefined ? { relayWorkspace: local.relayWorkspace } : {}),
    ...local.topLevel,
    orchard: section
  }
  const text = JSON.stringify(file, null, 2)
  // Exactly what JSON.stringify(file, null, 2) would give with the projects inline.
  return text.replace(JSON.stringify(PROJECTS_PLACEHOLDER), () => projectsText.replace(/\n/g, '\n  ')) + '\n'
}

const PROJECTS_PLACEHOLDER = '\u0000orchard:projects\u0000'

/** FILE-3: detects hand edits (or an older Pear's save) to the plain part. */
export function viewHash(projects: readonly unknown[]): string {
  return hashText(JSON.stringify(projects, null, 2))
}

function hashText(text: string): string {
  return createHash('sha256').update(text).digest('base64url')
}

/**
 * FILE-2: the replica is deflated before base64; a V2 update is about as large as the
 * JSON it replaces, and base64 adds a third, which would double the file. Deflated, the
 * whole file is about 1.2x Pear's plain one (bench/RESULTS.md).
 */
export function encodeUpdate(update: Uint8Array): string {
  return Buffer.from(deflateRawSync(update, { level: 1 })).toString('base64')
}

export function decodeUpdate(section: Pick<OrchardSection, 'update' | 'encoding'>): Uint8Array {
  const bytes = Buffer.from(section.update, 'base64')
  return section.encoding === 'yjs-v2' ? new Uint8Array(bytes) : new Uint8Array(inflateRawSync(bytes))
}

/**
 * FILE-7: a torn or hand-broken file may still hold a whole replica: the update string
 * is found by its key and used if it decodes.
 */
export function salvageSection(text: string): Pick<OrchardSection, 'update' | 'encoding' | 'workspaceId'> | undefined {
  const update = /"update"\s*:\s*"([A-Za-z0-9+/=]+)"/.exec(text)?.[1]
  if (!update) return undefined
  const encoding = /"encoding"\s*:\s*"yjs-v2"/.test(text) ? 'yjs-v2' : 'yjs-v2+deflate'
  const workspaceId = /"workspaceId"\s*:\s*"([^"\\]+)"/.exec(text)?.[1] ?? ''
  return { update, encoding, workspaceId }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return `a ${typeof value}`
}
