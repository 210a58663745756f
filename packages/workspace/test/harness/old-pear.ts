/**
 * projects.json as a Pear without Orchard reads and writes it, written from Pear's
 * src/main/store.ts and src/shared/schemas/project.ts: the whole file is read through its
 * store schema (any top-level type error, or unparseable JSON, reads as an empty store),
 * each project through its project schema (a project it rejects is dropped), unknown keys
 * pass through; a save is JSON.stringify(data, null, 2). Projects are parsed with
 * Orchard's reproduction of Pear's project schema (pear-rules.ts, tested on its own); on
 * files Orchard writes its two deliberate differences (PEAR-9 ids for id-less
 * integrations, PEAR-1's settled relayWorkspaceId) do not arise: every integration has
 * an id and every relayWorkspaceId is written out.
 */
import { parseProject, type Project } from '@orchard/workspace'

export interface OldPearStore {
  projects: Project[]
  activeProjectId: string | null
  [key: string]: unknown
}

export function oldPearLoad(text: string): OldPearStore {
  const empty: OldPearStore = { projects: [], activeProjectId: null }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return empty
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return empty
  const record = raw as Record<string, unknown>
  if (record.projects !== undefined && !Array.isArray(record.projects)) return empty
  if (record.activeProjectId !== undefined && record.activeProjectId !== null && typeof record.activeProjectId !== 'string') return empty
  return {
    ...record,
    projects: ((record.projects as unknown[] | undefined) ?? []).flatMap((entry) => {
      const parsed = parseProject(entry)
      return parsed.ok ? [parsed.project] : []
    }),
    activeProjectId: typeof record.activeProjectId === 'string' ? record.activeProjectId : null
  }
}

export function oldPearSave(data: unknown): string {
  return JSON.stringify(data, null, 2)
}

/** One call of Pear's store as its store.ts makes it: load the file, change the data, save it whole. */
export function oldPearCall(text: string, change: (data: OldPearStore) => void): string {
  const data = oldPearLoad(text)
  change(data)
  return oldPearSave(data)
}
