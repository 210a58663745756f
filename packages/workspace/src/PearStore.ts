/**
 * Pear's store API (src/main/store.ts) over the shared workspace doc: the same function
 * names, synchronous signatures, return values and errors, so Pear swaps its import and
 * keeps working. Every function is a small Yjs edit; projects.json becomes a debounced
 * snapshot of the replica (FILE-n). Functions are arrow properties so Pear can
 * destructure them: `export const { loadStore, saveStore, ... } = createPearStore(...)`.
 */
import { resolve } from 'node:path'
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import { SCHEMA_MAJOR } from './doc-layout.js'
import { LAST_ROOT, PROJECT_NOT_FOUND, ReadOnlyWorkspaceError } from './errors.js'
import { preserveAside, readTextIfExists } from './file-io.js'
import { cloneProject, emptyLocalState, localProject, viewProject, type LocalProjectState, type LocalState } from './local-state.js'
import {
  ProjectIntegrationSchema,
  canonicalJson,
  defaultRootName,
  normalizeChannelName,
  normalizePeopleList,
  normalizeRelayWorkspace,
  parseProject
} from './pear-rules.js'
import type { SharedProject } from './project-view.js'
import {
  FILE_FORMAT,
  decodeUpdate,
  parseSnapshot,
  renderSnapshot,
  salvageSection,
  viewHash,
  type ParsedSnapshot
} from './snapshot-format.js'
import { SnapshotWriter } from './SnapshotWriter.js'
import { addWholeProject, applyProjectsDiff } from './store-diff.js'
import {
  CLOUD_AGENT_WORKSPACE_MODES,
  type CloudAgentWorkspaceMode,
  type JsonValue,
  type Project,
  type ProjectHost,
  type ProjectIntegration,
  type ProjectRoot,
  type RelayWorkspace,
  type RelayWorkspaceRecord,
  type StoreData
} from './types.js'
import { WorkspaceModel, type WorkspaceChange } from './WorkspaceModel.js'

/** Transaction origin for updates merged from projects.json. */
export const FILE_ORIGIN = Symbol('orchard:file')

export interface StoreLogger {
  warn(message: string): void
  error(message: string): void
}

export type StoreProblemKind =
  | 'unreadable-file'
  | 'invalid-entries'
  | 'newer-schema'
  | 'workspace-mismatch'
  | 'save-failed'

/** Something wrong with projects.json. Nothing was lost: `preservedAt` holds a copy if one was made. */
export interface StoreProblem {
  kind: StoreProblemKind
  file: string
  message: string
  preservedAt?: string
}

export interface StoreChange {
  projectIds: string[]
  /** 'remote': arrived through the doc (a provider); 'file': merged from projects.json. */
  source: 'remote' | 'file'
}

export type PearStoreEvents = {
  change: (change: StoreChange) => void
  error: (problem: StoreProblem) => void
  saved: () => void
}

export interface PearStoreOptions {
  /** projects.json. Omit for a store that lives only in memory (tests, the relay). */
  file?: string
  /** The workspace doc, e.g. one bound to a RelayProvider. Its guid is the workspace id. */
  doc?: Y.Doc
  /** For a new workspace without a doc or file: its id (default: a random UUID). */
  workspaceId?: string
  /** Debounce for saves (ms, default 50). */
  saveDelayMs?: number
  /** Where problems are logged (default: console). */
  logger?: StoreLogger
  /** Id generator for new projects, roots and integrations (default crypto.randomUUID; tests pass a seeded one). */
  newId?: () => string
  /**
   * Whether a legacy projects.json (no replica) is imported into the doc (FILE-2, the
   * default). A member joining someone else's workspace passes false: their old projects
   * are kept aside in a copy instead of being pushed into the shared workspace (FILE-10).
   */
  importLegacyProjects?: boolean
}

interface BaseEntry {
  shared: SharedProject
  local: LocalProjectState | undefined
}

export class PearStore extends ObservableV2<PearStoreEvents> {
  readonly model: WorkspaceModel
  readonly doc: Y.Doc
  readonly file: string | undefined
  private local: LocalState = emptyLocalState()
  private readonly logger: StoreLogger
  private readonly newId: () => string
  private readonly importLegacy: boolean
  private readonly writer: SnapshotWriter | undefined
  /** DOC-4 for a file written by a newer Orchard: what loadStore returns, frozen. */
  private frozen: { reason: string; projects: Project[] } | null = null
  /** What loadStore handed out, so saveStore can tell what the caller changed (STORE-2). */
  private readonly bases = new WeakMap<object, { projects: BaseEntry[]; activeProjectId: string | null; relayWorkspace: string }>()
  /** The projects array most recently read from or written to disk (base for FILE-3 on legacy writers). */
  private diskProjects: readonly unknown[] = []
  private readonly dirtyLocal = new Set<string>()
  /** Problems found while opening the file (the 'error' events fire before anyone can listen). */
  readonly problems: StoreProblem[] = []
  private preservedOnLoad: string | undefined

  constructor(options: PearStoreOptions = {}) {
    super()
    this.file = options.file
    this.logger = options.logger ?? { warn: (m) => console.warn(m), error: (m) => console.error(m) }
    this.newId = options.newId ?? (() => crypto.randomUUID())
    this.importLegacy = options.importLegacyProjects ?? true

    const text = this.file ? readTextIfExists(this.file) : undefined
    const parsed = text === undefined ? undefined : this.parseForLoad(text)
    const workspaceId =
      options.doc?.guid ?? parsed?.snapshot.orchard?.workspaceId ?? parsed?.salvagedWorkspaceId ?? options.workspaceId ?? crypto.randomUUID()
    this.doc = options.doc ?? new Y.Doc({ guid: workspaceId })
    this.model = new WorkspaceModel(this.doc)
    if (parsed) this.importSnapshot(parsed.snapshot, 'load')

    this.model.on('change', (change) => this.handleModelChange(change))
    // An update whose dependencies have not arrived changes nothing visible, so no model
    // change fires; Yjs holds it as pending. It must still be saved, or a restart loses
    // it (found by the file-backed convergence property, seed 2040862834).
    let pending = pendingSignature(this.doc)
    this.doc.on('afterTransaction', () => {
      const now = pendingSignature(this.doc)
      if (now === pending) return
      pending = now
      this.writer?.markDirty()
    })
    // DOC-4: a file from a newer Orchard is never rewritten, so no writer at all.
    if (this.file && !this.frozen) {
      this.writer = new SnapshotWriter(
        this.file,
        {
          merge: (disk) => this.mergeDisk(disk),
          render: () => this.render(),
          onError: (error) => this.report('save-failed', `could not save it: ${error.message}`),
          onSaved: () => {
            this.dirtyLocal.clear()
            this.emit('saved', [])
          },
          delayMs: options.saveDelayMs ?? 50
        },
        text
      )
      // The save timer does not keep a process alive; if the event loop empties with a save
      // pending (an app that never called flush or close), save before exiting (FILE-11).
      openStores.add(this)
      if (openStores.size === 1) process.on('beforeExit', saveOpenStores)
      // A legacy or hand-edited file is rewritten with its replica right away.
      if (parsed && (parsed.needsRewrite || !parsed.snapshot.orchard) && !this.readOnlyReason) this.writer.markDirty()
    }
  }

  get workspaceId(): string {
    return this.doc.guid
  }

  /** DOC-4: why writes are refused here, or null. */
  get readOnlyReason(): string | null {
    return this.frozen?.reason ?? this.model.readOnlyReason
  }

  // ---------------------------------------------------------------- Pear's API

  loadStore = (): StoreData => {
    const source = this.frozen ? null : this.model.listProjects()
    const projects = this.frozen
      ? structuredClone(this.frozen.projects)
      : (source ?? []).map((shared) => localProject(shared, this.local.projects[shared.id]))
    const relayWorkspace = normalizeRelayWorkspace(this.local.relayWorkspace)
    const data: StoreData = {
      ...structuredClone(this.local.topLevel),
      projects,
      activeProjectId: this.local.activeProjectId,
      ...(relayWorkspace ? { relayWorkspace } : {})
    }
    if (source) {
      this.bases.set(data, {
        projects: source.map((shared) => ({ shared, local: cloneLocal(this.local.projects[shared.id]) })),
        activeProjectId: this.local.activeProjectId,
        relayWorkspace: canonicalJson(relayWorkspace ?? null)
      })
    }
    return data
  }

  /**
   * STORE-2: applies what the caller changed since its loadStore(), field by field, so a
   * whole-store save never overwrites a concurrent edit of another field. Data that did
   * not come from loadStore() is compared with the current view instead.
   */
  saveStore = (data: StoreData): void => {
    this.assertWritable()
    const base = this.bases.get(data)
    const baseProjects = base
      ? base.projects.map((entry) => viewProject(entry.shared, entry.local))
      : this.currentProjects()
    const target = Array.isArray(data.projects) ? data.projects : []
    const result = applyProjectsDiff(this.model, this.local, baseProjects, target, (id) => this.currentProject(id))
    for (const rejected of result.rejected) {
      this.logger.warn(`[orchard] saveStore: dropping a project Pear would not load (${rejected.reason})`)
    }
    if (result.localChanged) this.touchLocal('projects')

    const active = typeof data.activeProjectId === 'string' ? data.activeProjectId : null
    if (base ? active !== base.activeProjectId : active !== this.local.activeProjectId) this.setLocal('activeProjectId', active)
    const relay = normalizeRelayWorkspace(data.relayWorkspace)
    const relayJson = canonicalJson(relay ?? null)
    if (relayJson !== (base ? base.relayWorkspace : canonicalJson(normalizeRelayWorkspace(this.local.relayWorkspace) ?? null))) {
      this.setLocal('relayWorkspace', relay)
    }
    const topLevel: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(data)) {
      if (key !== 'projects' && key !== 'activeProjectId' && key !== 'relayWorkspace' && key !== 'orchard') topLevel[key] = value
    }
    if (canonicalJson(topLevel) !== canonicalJson(this.local.topLevel)) this.setLocal('topLevel', topLevel)
  }

  getRelayWorkspace = (): RelayWorkspace | null => {
    const record = normalizeRelayWorkspace(this.local.relayWorkspace)
    return record ? { id: record.id, createdAt: record.createdAt } : null
  }

  setRelayWorkspace = (workspace: RelayWorkspace): void => {
    const record = normalizeRelayWorkspace(workspace)
    this.setLocal('relayWorkspace', record ? { id: record.id, createdAt: record.createdAt } : undefined)
  }

  clearRelayWorkspace = (): void => {
    this.setLocal('relayWorkspace', undefined)
  }

  getRelayWorkspaceRecord = (): RelayWorkspaceRecord | undefined => {
    return normalizeRelayWorkspace(this.local.relayWorkspace)
  }

  setRelayWorkspaceRecord = (record: RelayWorkspaceRecord | null): void => {
    this.setLocal('relayWorkspace', normalizeRelayWorkspace(record))
  }

  addProject = (name: string, rootPath: string): Project => {
    this.assertWritable()
    const id = this.newId()
    const project: Project = {
      id,
      name,
      relayWorkspaceId: id,
      rootPath,
      roots: [{ id: this.newId(), name: defaultRootName(rootPath), path: rootPath }],
      channels: ['general'],
      channelPeople: {},
      integrations: []
    }
    // PEAR-13: Pear saves a nameless or rootless project and drops it on the next load;
    // Orchard never lets it into the shared doc at all. The return value is Pear's.
    const parsed = parseProject(project)
    if (parsed.ok) addWholeProject(this.model, this.local, parsed.project)
    else this.logger.warn(`[orchard] addProject: not adding a project Pear would not load (${parsed.reason})`)
    return project
  }

  removeProject = (id: string): void => {
    this.assertWritable()
    if (this.model.getProject(id)) this.model.removeProject(id)
    if (this.local.projects[id]) {
      delete this.local.projects[id]
      this.touchLocal('projects')
    }
    if (this.local.activeProjectId === id) this.setLocal('activeProjectId', null)
  }

  setActiveProject = (id: string | null): void => {
    this.setLocal('activeProjectId', id)
  }

  addProjectChannel = (projectId: string, channelName: string): void => {
    this.assertWritable()
    const project = this.model.getProject(projectId)
    const normalized = normalizeChannelName(channelName)
    if (project && normalized && !project.channels.includes(normalized)) this.model.addChannel(projectId, normalized)
  }

  removeProjectChannel = (projectId: string, channelName: string): void => {
    this.assertWritable()
    const project = this.model.getProject(projectId)
    if (project) this.model.removeChannel(projectId, normalizeChannelName(channelName))
  }

  setProjectChannelPeople = (projectId: string, channelName: string, people: string[]): string[] => {
    this.assertWritable()
    const project = this.model.getProject(projectId)
    const normalized = normalizeChannelName(channelName)
    if (!project || !normalized || !project.channels.includes(normalized)) return []
    const normalizedPeople = normalizePeopleList(people)
    this.model.setChannelPeople(projectId, normalized, normalizedPeople)
    return normalizedPeople
  }

  findProjectsWithPath = (rootPath: string): Array<{ id: string; name: string }> => {
    const normalizedRootPath = resolve(rootPath)
    return this.currentProjects()
      .filter((project) => project.roots.some((root) => resolve(root.path) === normalizedRootPath))
      .map((project) => ({ id: project.id, name: project.name }))
  }

  addProjectRoot = (projectId: string, rootPath: string, name?: string): ProjectRoot => {
    this.assertWritable()
    const project = this.currentProject(projectId)
    if (!project) throw new Error(PROJECT_NOT_FOUND)
    const existing = project.roots.find((root) => root.path === rootPath)
    if (existing) return { ...existing }
    const root: ProjectRoot = { id: this.newId(), name: name?.trim() || defaultRootName(rootPath), path: rootPath }
    this.model.addRoot(projectId, root)
    return root
  }

  removeProjectRoot = (projectId: string, rootId: string): void => {
    this.assertWritable()
    const project = this.currentProject(projectId)
    if (!project) return
    if (project.roots.length <= 1) throw new Error(LAST_ROOT)
    if (project.roots.some((root) => root.id === rootId)) this.model.removeRoot(projectId, rootId)
  }

  addProjectIntegration = (projectId: string, name: string, type = 'custom'): ProjectIntegration => {
    this.assertWritable()
    if (!this.model.getProject(projectId)) throw new Error(PROJECT_NOT_FOUND)
    const integration = ProjectIntegrationSchema.parse({ id: this.newId(), name, type })
    this.model.addIntegration(projectId, integration)
    return integration
  }

  removeProjectIntegration = (projectId: string, integrationId: string): void => {
    this.assertWritable()
    if (this.model.getProject(projectId)) this.model.removeIntegration(projectId, integrationId)
  }

  updateProject = (id: string, update: Partial<Project>): void => {
    this.assertWritable()
    if (!this.model.getProject(id)) return
    this.model.transact(() => {
      if (typeof update.name === 'string' && update.name.trim()) this.model.setField(id, 'name', update.name.trim())
      const mode = (update as { cloudAgentWorkspaceMode?: unknown }).cloudAgentWorkspaceMode
      if (CLOUD_AGENT_WORKSPACE_MODES.includes(mode as CloudAgentWorkspaceMode)) {
        this.model.setField(id, 'cloudAgentWorkspaceMode', mode as CloudAgentWorkspaceMode)
      }
    })
  }

  // ------------------------------------------------------ Orchard's additions

  /** Which instance runs this project's agents (null clears it). Shared. */
  setProjectHost = (projectId: string, host: ProjectHost | null): void => {
    this.assertWritable()
    this.model.setField(projectId, 'host', host ? ({ ...host } as unknown as JsonValue) : undefined)
  }

  /** LOCAL-2: where a root is on this machine (null: back to the path it was created with). */
  setLocalRootPath = (projectId: string, rootId: string, path: string | null): void => {
    const state = (this.local.projects[projectId] ??= {})
    const roots = (state.roots ??= {})
    if (path === null) delete roots[rootId]
    else roots[rootId] = path
    this.touchLocal('projects')
  }

  /** A machine-local top-level value of projects.json (LOCAL-1); never shared. */
  getLocalValue = (key: string): unknown => structuredClone(this.local.topLevel[key])

  setLocalValue = (key: string, value: unknown): void => {
    const topLevel = { ...this.local.topLevel }
    if (value === undefined) delete topLevel[key]
    else topLevel[key] = structuredClone(value)
    this.setLocal('topLevel', topLevel)
  }

  /** Fires when edits arrive from elsewhere (the relay, or another process via the file). */
  onChange = (listener: (change: StoreChange) => void): (() => void) => {
    this.on('change', listener)
    return () => this.off('change', listener)
  }

  /** Resolves once every change made so far is durable on disk. */
  flush = (): Promise<void> => this.writer?.flush() ?? Promise.resolve()

  /** @internal FILE-11: called when the process's event loop empties. */
  saveIfDirty(): void {
    if (this.writer?.dirty) void this.writer.flush().catch(() => undefined)
  }

  /** Saves what is pending and detaches from the doc. */
  close = async (): Promise<void> => {
    openStores.delete(this)
    if (openStores.size === 0) process.off('beforeExit', saveOpenStores)
    await this.writer?.close()
    this.model.destroy()
    super.destroy()
  }

  // ---------------------------------------------------------------- internals

  /** This machine's view of every project, read-only (no copies: callers that hand data out clone). */
  private currentProjects(): ReadonlyArray<Readonly<Project>> {
    return this.model.listProjects().map((shared) => viewProject(shared, this.local.projects[shared.id]))
  }

  private currentProject(id: string): Readonly<Project> | undefined {
    const shared = this.model.getProject(id)
    return shared ? viewProject(shared, this.local.projects[id]) : undefined
  }

  private assertWritable(): void {
    if (this.frozen) throw new ReadOnlyWorkspaceError(this.frozen.reason)
  }

  private setLocal<K extends 'activeProjectId' | 'relayWorkspace' | 'topLevel'>(key: K, value: LocalState[K]): void {
    if (value === undefined) delete this.local[key]
    else this.local[key] = value
    this.touchLocal(key)
  }

  private touchLocal(key: string): void {
    this.dirtyLocal.add(key)
    this.writer?.markDirty()
  }

  private handleModelChange(change: WorkspaceChange): void {
    this.writer?.markDirty()
    if (change.local && change.origin !== FILE_ORIGIN) return
    this.emit('change', [{ projectIds: change.projectIds, source: change.origin === FILE_ORIGIN ? 'file' : 'remote' }])
  }

  private render(): string {
    const projects = this.currentProjects()
    this.diskProjects = projects
    return renderSnapshot({
      projects,
      local: this.local,
      workspaceId: this.workspaceId,
      schemaMajor: SCHEMA_MAJOR,
      update: Y.encodeStateAsUpdateV2(this.doc)
    })
  }

  private parseForLoad(text: string): { snapshot: ParsedSnapshot; needsRewrite: boolean; salvagedWorkspaceId?: string } | undefined {
    const file = this.file as string
    const outcome = parseSnapshot(text)
    if (outcome.ok) {
      const { snapshot } = outcome
      if (snapshot.problems.length > 0) {
        this.preservedOnLoad = preserveAside(file, 'invalid')
        this.report('invalid-entries', snapshot.problems.join('; '), this.preservedOnLoad)
      }
      return { snapshot, needsRewrite: snapshot.problems.length > 0 }
    }
    // FILE-7/FILE-8: unreadable. Keep the bytes, salvage the replica if it is intact.
    const preservedAt = preserveAside(file, 'corrupt')
    const salvage = salvageSection(text)
    this.report(
      'unreadable-file',
      `${outcome.error}. ${salvage ? 'Recovered the workspace replica it held; ' : ''}` +
        'Pear starts from what could be recovered and the original is kept',
      preservedAt
    )
    if (!salvage) return undefined
    return {
      snapshot: {
        projects: [],
        local: emptyLocalState(),
        orchard: {
          format: FILE_FORMAT,
          workspaceId: salvage.workspaceId,
          schemaMajor: SCHEMA_MAJOR,
          encoding: salvage.encoding,
          update: salvage.update,
          viewHash: viewHash([]),
          localRoots: {},
          localFields: {},
          quarantine: []
        },
        problems: []
      },
      needsRewrite: true,
      ...(salvage.workspaceId ? { salvagedWorkspaceId: salvage.workspaceId } : {})
    }
  }

  /**
   * Brings a parsed projects.json into this replica: its Yjs update, then any edits made
   * to its plain part by hand or by a Pear without Orchard (FILE-3), or the whole plain
   * part for a legacy file (FILE-2).
   */
  private importSnapshot(snapshot: ParsedSnapshot, mode: 'load' | 'merge'): void {
    const file = this.file ?? '(memory)'
    const { orchard } = snapshot
    if (orchard && (orchard.schemaMajor > SCHEMA_MAJOR || orchard.format > FILE_FORMAT)) {
      const reason =
        `${file} was written by a newer Orchard (file format ${orchard.format}, schema ${orchard.schemaMajor}); ` +
        `this one understands format ${FILE_FORMAT}, schema ${SCHEMA_MAJOR}. It is shown read-only and will not be rewritten; update Orchard to edit it`
      if (mode === 'load') {
        this.frozen = { reason, projects: snapshot.projects.flatMap((raw) => { const p = parseProject(raw); return p.ok ? [p.project] : [] }) }
        this.local = snapshot.local
      }
      this.report('newer-schema', reason)
      return
    }

    if (orchard && orchard.workspaceId && orchard.workspaceId !== this.workspaceId) {
      const preservedAt = this.file ? preserveAside(this.file, `workspace-${orchard.workspaceId}`) : undefined
      this.report(
        'workspace-mismatch',
        `it holds workspace ${orchard.workspaceId}, but this store is for workspace ${this.workspaceId}; its projects are not merged into this one`,
        preservedAt
      )
      if (mode === 'load') this.adoptLocal(snapshot.local, mode, { withProjects: false })
      return
    }

    let base: readonly unknown[] | undefined
    if (orchard) {
      try {
        const update = decodeUpdate(orchard)
        Y.applyUpdateV2(this.doc, update, FILE_ORIGIN)
        if (viewHash(snapshot.projects) !== orchard.viewHash) base = this.viewOfUpdate(update, snapshot.local)
      } catch (error) {
        this.report('unreadable-file', `its workspace replica could not be decoded (${(error as Error).message}); importing its plain projects instead`)
        base = mode === 'merge' ? this.diskProjects : []
      }
    } else if (mode === 'load' && !this.importLegacy) {
      if (snapshot.projects.length > 0 && this.file) {
        const preservedAt = preserveAside(this.file, 'before-join')
        this.logger.warn(`[orchard] ${this.file}: its ${snapshot.projects.length} local project(s) were not added to workspace ${this.workspaceId}; the file is kept at ${preservedAt}`)
      }
    } else {
      base = mode === 'merge' ? this.diskProjects : []
    }
    this.adoptLocal(snapshot.local, mode, { withProjects: true })

    if (base) this.importPlain(base, snapshot.projects, mode)
    this.diskProjects = snapshot.projects
  }

  /** The projects a file's update alone describes, as that file's machine saw them. */
  private viewOfUpdate(update: Uint8Array, local: LocalState): Project[] {
    const doc = new Y.Doc({ guid: this.workspaceId })
    Y.applyUpdateV2(doc, update)
    const model = new WorkspaceModel(doc)
    const projects = model.listProjects().map((shared) => cloneProject(viewProject(shared, local.projects[shared.id])))
    model.destroy()
    doc.destroy()
    return projects
  }

  private importPlain(base: readonly unknown[], target: unknown[], mode: 'load' | 'merge'): void {
    if (this.model.readOnlyReason) return
    const baseProjects = base.flatMap((raw) => {
      const parsed = parseProject(raw)
      return parsed.ok ? [parsed.project] : []
    })
    const result = this.model.transact(
      () => applyProjectsDiff(this.model, this.local, baseProjects, target, (id) => this.currentProject(id)),
      FILE_ORIGIN
    )
    if (result.localChanged) this.touchLocal('projects')
    if (result.rejected.length > 0) {
      // PEAR-12: Pear drops these and its next save deletes them; Orchard keeps them.
      const known = new Set(this.local.quarantine.map((entry) => canonicalJson(entry)))
      for (const { raw } of result.rejected) {
        if (!known.has(canonicalJson(raw))) this.local.quarantine.push(raw)
      }
      if (mode === 'load' && this.file) this.preservedOnLoad ??= preserveAside(this.file, 'invalid')
      const preservedAt = mode === 'load' ? this.preservedOnLoad : undefined
      this.report(
        'invalid-entries',
        `${result.rejected.length} project entr${result.rejected.length === 1 ? 'y' : 'ies'} Pear's rules reject ` +
          `(${result.rejected.map((entry) => entry.reason).join('; ')}); kept under orchard.quarantine, not shown`,
        preservedAt
      )
      this.touchLocal('quarantine')
    }
  }

  private adoptLocal(disk: LocalState, mode: 'load' | 'merge', { withProjects }: { withProjects: boolean }): void {
    if (mode === 'load') {
      this.local = { ...disk, projects: withProjects ? disk.projects : {} }
      return
    }
    // Another process on this machine wrote the file: take its local fields unless we
    // changed ours since our last save (then ours are newer).
    if (!this.dirtyLocal.has('activeProjectId')) this.local.activeProjectId = disk.activeProjectId
    if (!this.dirtyLocal.has('relayWorkspace')) {
      if (disk.relayWorkspace) this.local.relayWorkspace = disk.relayWorkspace
      else delete this.local.relayWorkspace
    }
    if (!this.dirtyLocal.has('topLevel')) this.local.topLevel = disk.topLevel
    if (withProjects && !this.dirtyLocal.has('projects')) this.local.projects = disk.projects
    const known = new Set(this.local.quarantine.map((entry) => canonicalJson(entry)))
    for (const entry of disk.quarantine) if (!known.has(canonicalJson(entry))) this.local.quarantine.push(entry)
  }

  /** Called by the writer, under the file lock, when another process changed the file. */
  private mergeDisk(text: string): void {
    const outcome = parseSnapshot(text)
    if (!outcome.ok) {
      const preservedAt = this.file ? preserveAside(this.file, 'corrupt') : undefined
      this.report('unreadable-file', `${outcome.error}; another process wrote it. The copy is kept and this replica is saved over it`, preservedAt)
      return
    }
    this.importSnapshot(outcome.snapshot, 'merge')
  }

  private report(kind: StoreProblemKind, message: string, preservedAt?: string): void {
    const file = this.file ?? '(memory)'
    const problem: StoreProblem = { kind, file, message, ...(preservedAt ? { preservedAt } : {}) }
    this.logger.error(`[orchard] ${file}: ${message}${preservedAt ? ` (copy kept at ${preservedAt})` : ''}`)
    this.problems.push(problem)
    this.emit('error', [problem])
  }
}

/** Stores with a file, so one beforeExit listener can save them all (FILE-11). */
const openStores = new Set<PearStore>()

function saveOpenStores(): void {
  for (const store of openStores) store.saveIfDirty()
}

function pendingSignature(doc: Y.Doc): string {
  const { pendingStructs, pendingDs } = doc.store
  return `${pendingStructs?.update.byteLength ?? 0}:${pendingDs?.byteLength ?? 0}`
}

function cloneLocal(state: LocalProjectState | undefined): LocalProjectState | undefined {
  return state ? structuredClone(state) : undefined
}

/** Pear's store API bound to a projects.json (and optionally a shared doc). */
export function createPearStore(options: PearStoreOptions = {}): PearStore {
  return new PearStore(options)
}
