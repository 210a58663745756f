/**
 * Pear's store as Pear's src/main/store.ts does it today, the baseline of this bench:
 * every call reads projects.json (readFileSync + JSON.parse + Pear's zod schema over the
 * whole file), changes one thing, and writes the whole file back (JSON.stringify(data,
 * null, 2), writeFileSync to a temp file, renameSync). No fsync, no lock.
 *
 * The project schema is the one Pear's loader uses, as packages/workspace/src/pear-rules.ts
 * reproduces it (ProjectSchema). Pear's StoreDataSchema wraps it: each `projects` entry is
 * safeParse'd and dropped if invalid, `activeProjectId` is a string or null. Like Pear's,
 * its transform keeps only those two keys, so Pear's own loadStore() drops relayWorkspace
 * (it reappears only right after a set); this baseline keeps that behaviour.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { z } from 'zod'
import {
  PeopleListSchema,
  ProjectIntegrationSchema,
  ProjectSchema,
  normalizeChannelName,
  normalizeRelayWorkspace
} from '../../packages/workspace/src/pear-rules.js'
import type {
  Project,
  ProjectIntegration,
  ProjectRoot,
  RelayWorkspaceRecord,
  StoreData
} from '../../packages/workspace/src/index.js'

/** Pear's StoreDataSchema(ProjectSchema) (src/shared/schemas/project.ts). */
export const StoreSchema = z
  .object({
    projects: z.array(z.unknown()).optional(),
    activeProjectId: z.union([z.string(), z.null()]).optional()
  })
  .passthrough()
  .transform((value) => ({
    projects: (value.projects ?? []).flatMap((entry) => {
      const parsed = ProjectSchema.safeParse(entry)
      return parsed.success ? [parsed.data] : []
    }),
    activeProjectId: typeof value.activeProjectId === 'string' ? value.activeProjectId : null
  }))

/** Pear's read path: what its loadStore() does with the file's text. */
export function pearParse(text: string): StoreData {
  return StoreSchema.parse(JSON.parse(text)) as StoreData
}

/** Pear's write path: what its saveStore() writes. */
export function pearRender(data: StoreData): string {
  return JSON.stringify(data, null, 2)
}

function defaultRootName(path: string): string {
  return basename(path) || path
}

export type PearWayStore = ReturnType<typeof createPearWayStore>

/**
 * Pear's store.ts functions bound to one file, same names and signatures as Orchard's
 * PearStore. `newId` stands in for Pear's crypto.randomUUID() so a run can be repeated.
 */
export function createPearWayStore(storePath: string, newId: () => string = () => crypto.randomUUID()) {
  const defaultData: StoreData = { projects: [], activeProjectId: null }

  function loadStore(): StoreData {
    try {
      return pearParse(readFileSync(storePath, 'utf-8'))
    } catch {
      return { ...defaultData }
    }
  }

  function saveStore(data: StoreData): void {
    const tmpPath = storePath + '.tmp'
    writeFileSync(tmpPath, pearRender(data))
    renameSync(tmpPath, storePath)
  }

  function withProject(data: StoreData, projectId: string): Project | undefined {
    return data.projects.find((entry) => entry.id === projectId)
  }

  return {
    loadStore,
    saveStore,

    setRelayWorkspaceRecord(record: RelayWorkspaceRecord | null): void {
      const data = loadStore()
      const relayWorkspace = normalizeRelayWorkspace(record)
      if (relayWorkspace) data.relayWorkspace = relayWorkspace
      else delete data.relayWorkspace
      saveStore(data)
    },

    addProject(name: string, rootPath: string): Project {
      const data = loadStore()
      const id = newId()
      const project: Project = {
        id,
        name,
        relayWorkspaceId: id,
        rootPath,
        roots: [{ id: newId(), name: defaultRootName(rootPath), path: rootPath }],
        channels: ['general'],
        channelPeople: {},
        integrations: []
      }
      data.projects.push(project)
      saveStore(data)
      return project
    },

    removeProject(id: string): void {
      const data = loadStore()
      data.projects = data.projects.filter((project) => project.id !== id)
      if (data.activeProjectId === id) data.activeProjectId = null
      saveStore(data)
    },

    setActiveProject(id: string | null): void {
      const data = loadStore()
      data.activeProjectId = id
      saveStore(data)
    },

    addProjectChannel(projectId: string, channelName: string): void {
      const data = loadStore()
      const project = withProject(data, projectId)
      const normalized = normalizeChannelName(channelName)
      if (project && normalized && !project.channels.includes(normalized)) {
        project.channels.push(normalized)
        saveStore(data)
      }
    },

    removeProjectChannel(projectId: string, channelName: string): void {
      const data = loadStore()
      const project = withProject(data, projectId)
      const normalized = normalizeChannelName(channelName)
      if (project) {
        project.channels = project.channels.filter((channel) => channel !== normalized)
        delete project.channelPeople[normalized]
        saveStore(data)
      }
    },

    setProjectChannelPeople(projectId: string, channelName: string, people: string[]): string[] {
      const data = loadStore()
      const project = withProject(data, projectId)
      const normalized = normalizeChannelName(channelName)
      if (!project || !normalized || !project.channels.includes(normalized)) return []
      const normalizedPeople = PeopleListSchema.parse(people)
      if (normalizedPeople.length > 0) project.channelPeople[normalized] = normalizedPeople
      else delete project.channelPeople[normalized]
      saveStore(data)
      return normalizedPeople
    },

    findProjectsWithPath(rootPath: string): Array<{ id: string; name: string }> {
      const data = loadStore()
      const normalizedRootPath = resolve(rootPath)
      return data.projects
        .filter((p) => p.roots.some((r) => resolve(r.path) === normalizedRootPath))
        .map((p) => ({ id: p.id, name: p.name }))
    },

    addProjectRoot(projectId: string, rootPath: string, name?: string): ProjectRoot {
      const data = loadStore()
      const project = withProject(data, projectId)
      if (!project) throw new Error('Project not found')
      const existing = project.roots.find((root) => root.path === rootPath)
      if (existing) return existing
      const root: ProjectRoot = { id: newId(), name: name?.trim() || defaultRootName(rootPath), path: rootPath }
      project.roots.push(root)
      saveStore(data)
      return root
    },

    removeProjectRoot(projectId: string, rootId: string): void {
      const data = loadStore()
      const project = withProject(data, projectId)
      if (!project) return
      if (project.roots.length <= 1) throw new Error('A project must have at least one root')
      project.roots = project.roots.filter((root) => root.id !== rootId)
      if (!project.roots.some((root) => root.path === project.rootPath)) project.rootPath = (project.roots[0] as ProjectRoot).path
      saveStore(data)
    },

    addProjectIntegration(projectId: string, name: string, type = 'custom'): ProjectIntegration {
      const data = loadStore()
      const project = withProject(data, projectId)
      if (!project) throw new Error('Project not found')
      const integration = ProjectIntegrationSchema.parse({ id: newId(), name, type })
      project.integrations.push(integration)
      saveStore(data)
      return integration
    },

    removeProjectIntegration(projectId: string, integrationId: string): void {
      const data = loadStore()
      const project = withProject(data, projectId)
      if (!project) return
      project.integrations = project.integrations.filter((integration) => integration.id !== integrationId)
      saveStore(data)
    },

    updateProject(id: string, update: Partial<Project>): void {
      const data = loadStore()
      const idx = data.projects.findIndex((project) => project.id === id)
      if (idx === -1) return
      const next = { ...(data.projects[idx] as Project) }
      if (typeof update.name === 'string' && update.name.trim()) next.name = update.name.trim()
      const mode = (update as { cloudAgentWorkspaceMode?: unknown }).cloudAgentWorkspaceMode
      if (mode === 'git-overlay' || mode === 'git' || mode === 'relayfile') next.cloudAgentWorkspaceMode = mode
      data.projects[idx] = next
      saveStore(data)
    }
  }
}
