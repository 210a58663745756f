/**
 * Pear's projects.json shapes, as Pear's src/main/store.ts exports them, plus the one
 * field Orchard adds (`host`). Unknown keys on a project or an integration are kept, so
 * both carry an index signature.
 */

export interface ProjectRoot {
  id: string
  name: string
  path: string
}

export interface ProjectIntegration {
  id: string
  name: string
  type: string
  provider?: string
  integrationId?: string
  scope?: Record<string, unknown>
  mountPaths?: string[]
  connectedAt?: string
  notifyAgent?: boolean
  lastSyncAt?: string
  lastError?: string
  [key: string]: unknown
}

export type CloudAgentWorkspaceMode = 'git-overlay' | 'git' | 'relayfile'

export const CLOUD_AGENT_WORKSPACE_MODES: readonly CloudAgentWorkspaceMode[] = [
  'git-overlay',
  'git',
  'relayfile'
]

export interface ProjectCloudAgent {
  id: string
  sandboxId: string
  relayfileMountPath: string
  attachedAt: string
  autoPullAfterRun: boolean
  workspaceSource?:
    | { kind: 'relayfile' }
    | {
        kind: 'git' | 'git-overlay'
        remoteUrl: string
        ref?: string
        commit?: string
        shallow?: boolean
        targetDir?: string
        largeReason?: string
      }
  [key: string]: unknown
}

/** Which instance runs this project's agents. Orchard's addition to Pear's project. */
export interface ProjectHost {
  instanceId: string
  label?: string
}

export interface Project {
  id: string
  name: string
  relayWorkspaceId: string
  rootPath: string
  roots: ProjectRoot[]
  channels: string[]
  channelPeople: Record<string, string[]>
  integrations: ProjectIntegration[]
  /** Local to this machine (see SPEC LOCAL-3): never enters the shared doc. Pear keeps a null as written. */
  cloudAgent?: ProjectCloudAgent | null
  cloudAgentWorkspaceMode?: CloudAgentWorkspaceMode
  /** Pear's proactive-agent bindings; kept verbatim. */
  proactiveAgents?: unknown
  host?: ProjectHost
  [key: string]: unknown
}

export interface RelayWorkspace {
  id: string
  createdAt: string
}

export interface RelayWorkspaceRecord extends RelayWorkspace {
  apiUrl?: string
  authKey?: string
}

export interface StoreData {
  projects: Project[]
  activeProjectId: string | null
  /** Returned as found in projects.json, as Pear returns it (API-10). */
  relayWorkspace?: RelayWorkspaceRecord
  [key: string]: unknown
}

/** JSON values as they can be stored in the shared doc. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
