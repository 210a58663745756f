/**
 * Pear's store API (src/main/store.ts) over the shared workspace doc: the same function
 * names, synchronous signatures, return values and errors, so Pear swaps its import and
 * keeps working. Every function is a small Yjs edit; projects.json becomes a debounced
 * snapshot of the replica (FILE-n). Functions are arrow properties so Pear can
 * destructure them: `export const { loadStore, saveStore, ... } = createPearStore(...)`.
 */
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import { SCHEMA_MAJOR } from './doc-layout.js'
import { LAST_ROOT, PROJECT_NOT_FOUND, ReadOnlyWorkspaceError } from './errors.js'
import { preserveAside, readTextIfExists, type DurableFs } from './file-io.js'
import { cloneProject, emptyLocalState, viewProject, type DuplicateEntry, type LocalState } from './local-state.js'
import {
  ProjectIntegrationSchema,
  canonicalJson,
  defaultRootName,
  normalizeChannelName,
  normalizePeopleList,
  isRecord,
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
import { addWholeProject, applyProjectsDiff, holdsProject } from './store-diff.js'
import { orderLike, pearLoadOrder } from './key-order.js'
import { classifyEntries, placeDuplicates, rolesAt, withDuplicates, type RoledEntry } from './duplicate-entries.js'
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
  | 'duplicate-ids'
  | 'bad-argument'

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
  /** The file-system steps of a durable write (FILE-5); tests pass one that watches or stops them. */
  fs?: DurableFs
  /** A projects.json.lock not refreshed for this long belongs to a dead process and is broken (ms, default 10000, at least 2000). */
  lockStaleMs?: number
}

/** A project as loadStore handed it out (this machine's view, in its file's key order, PEAR-15). */
type BaseEntry = Readonly<Project>

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
  private readonly bases = new WeakMap<
    object,
    { projects: BaseEntry[]; duplicates: readonly DuplicateEntry[]; activeProjectId: string | null; relayWorkspace: string }
  >()
  /**
   * The projects array most recently read from or written to disk, with which entries were
   * duplicates (PEAR-14): the base for FILE-3 when a writer without Orchard changed it.
   */
  private diskReference: readonly RoledEntry[] = []
  /** The shared entries of diskReference by id: each project's key order on disk (PEAR-15). */
  private diskEntries = new Map<string, unknown>()
  /** PEAR-15: views in key order, per view object, while their template is the same. */
  private readonly orderedViews = new WeakMap<object, { template: unknown; ordered: Readonly<Project> }>()
  /** PEAR-15: the entries the last saveStore was given, whose key order the next write keeps (Pear writes what it is given). */
  private readonly saveTemplates = new Map<string, unknown>()
  /** PEAR-15: each file entry in Pear's load order, worked out once per entry. */
  private readonly loadOrders = new WeakMap<object, unknown>()
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
    // `||`, not `??`, for the file's id: a torn file's replica can be salvaged without it ('').
    const workspaceId = options.doc?.guid ?? (parsed?.snapshot.orchard?.workspaceId || options.workspaceId) ?? crypto.randomUUID()
    // FILE-14: a legacy file is not rewritten on open, so two processes that open it must
    // build the same replica from it on their own: the workspace id and the import's Yjs
    // client come from the file's text, which makes both imports the same Yjs items.
    const legacy = !options.doc && !options.workspaceId && text !== undefined && parsed !== undefined && !parsed.snapshot.orchard
    this.doc = options.doc ?? new Y.Doc({ guid: legacy ? legacyWorkspaceId(text) : workspaceId })
    this.model = new WorkspaceModel(this.doc)
    // Edits imported from the file's plain part (a legacy file, or one an older Pear or a
    // person edited) are new Yjs items. In a doc of our own they are made as a client
    // derived from the file's text, so every process and every reopening makes the very
    // same items and nothing needs writing (FILE-14). In a doc we were given (it may hold
    // synced state, so the same edits could land differently) they are saved instead.
    let importedIntoGivenDoc = false
    if (parsed) {
      const ownClient = this.doc.clientID
      const before = Y.getState(this.doc.store, ownClient)
      if (!options.doc && text !== undefined) this.doc.clientID = importClientId(text)
      try {
        this.importSnapshot(parsed.snapshot, 'load')
      } finally {
        this.doc.clientID = ownClient
      }
      importedIntoGivenDoc = Y.getState(this.doc.store, ownClient) > before
    }

    this.model.on('change', (change) => this.handleModelChange(change))
    // An update whose dependencies have not arrived changes nothing visible, so no model
    // change fires; Yjs holds it as pending. It must still be saved, or a restart loses
    // it (found by the file-backed convergence property, seed 2040862834).
    let pending = pendingSignature(this.doc)
    this.doc.on('afterTransaction', (tr: Y.Transaction) => {
      const now = pendingSignature(this.doc)
      if (now === pending) return
      pending = now
      if (tr.origin !== FILE_ORIGIN) this.scheduleSave()
    })
    // DOC-4: a file from a newer Orchard is never rewritten, so no writer at all (a doc
    // from a newer Orchard: see scheduleSave).
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
          delayMs: options.saveDelayMs ?? 50,
          ...(options.fs ? { fs: options.fs } : {}),
          lock: { staleMs: options.lockStaleMs } // undefined: withFileLock's default stale time (FILE-4)
        },
        text
      )
      // The save timer does not keep a process alive; if the event loop empties with a save
      // pending (an app that never called flush or close), save before exiting (FILE-11).
      openStores.add(this)
      if (openStores.size === 1) process.on('beforeExit', saveOpenStores)
    }
    // FILE-14: opening is reading. What was imported from the file is in the file already
    // (and marks nothing as changed here); the file is written at the first real change,
    // not because it was opened.
    if (importedIntoGivenDoc) this.scheduleSave()
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
    this.refresh()
    const source = this.frozen ? null : this.model.listProjects()
    const projects = this.frozen
      ? structuredClone(this.frozen.projects)
      : [...withDuplicates((source ?? []).map((shared) => cloneProject(this.orderedView(shared))), this.local.duplicates)]
    const data: StoreData = {
      ...structuredClone(this.local.topLevel),
      projects,
      activeProjectId: this.local.activeProjectId,
      // API-10: returned as found, as Pear's loadStore returns it.
      ...(this.local.relayWorkspace !== undefined ? { relayWorkspace: structuredClone(this.local.relayWorkspace) as RelayWorkspaceRecord } : {})
    }
    if (source) {
      this.bases.set(data, {
        // Views are immutable snapshots (the local state they read is replaced, never edited).
        projects: source.map((shared) => this.orderedView(shared)),
        // Entries are never edited in place (setDuplicates replaces the list), so no copy is needed.
        duplicates: this.local.duplicates,
        activeProjectId: this.local.activeProjectId,
        relayWorkspace: canonicalJson(this.local.relayWorkspace ?? null)
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
    // API-12: Pear throws only where writeFileSync does (undefined); for any other
    // non-object it writes a file its next load reads as empty. Orchard writes nothing.
    if (data === undefined) throw new TypeError('saveStore needs the store object loadStore() returned, and was given undefined. Nothing was written.')
    if (!isRecord(data)) {
      this.report('bad-argument', `saveStore was given ${describeValue(data)} instead of the store object loadStore() returned; nothing was written (Pear would have written a file its next load reads as empty)`)
      return
    }
    this.assertWritable()
    this.refresh()
    const base = this.bases.get(data)
    if (Array.isArray(data.projects)) {
      const baseProjects = base
        ? base.projects
        : this.currentProjects()
      // PEAR-14: each entry keeps the role of the entry it was loaded as, so a duplicate
      // whose shared project was removed is still a duplicate, not that removed project.
      const classified = classifyEntries(placeDuplicates(baseProjects, base ? base.duplicates : this.local.duplicates), data.projects)
      const result = applyProjectsDiff(this.model, this.local, baseProjects, data.projects, (id) => this.currentProject(id), classified.duplicateAt)
      for (const rejected of result.rejected) {
        this.logger.warn(`[orchard] saveStore: dropping a project Pear would not load (${rejected.reason})`)
      }
      if (result.localChanged) this.touchLocal('projects')
      for (const [index, raw] of data.projects.entries()) {
        if (!classified.duplicateAt.has(index) && isRecord(raw) && typeof raw.id === 'string') this.saveTemplates.set(raw.id, raw)
      }
      // STORE-1 for duplicates: one that arrived after the caller's load (another process
      // wrote it) is not in `data` because the caller never saw it, not because it was removed.
      const seen = new Set((base ? base.duplicates : this.local.duplicates).map((entry) => canonicalJson(entry.entry)))
      const given = new Set(classified.duplicates.map((entry) => canonicalJson(entry.entry)))
      const arrived = this.local.duplicates.filter((entry) => !seen.has(canonicalJson(entry.entry)) && !given.has(canonicalJson(entry.entry)))
      this.setDuplicates(byIndex([...classified.duplicates, ...result.duplicates, ...arrived]), 'saveStore')
    } else {
      this.report('bad-argument', `saveStore was given "projects" as ${describeValue(data.projects)}, not a list; the projects were left as they are`)
    }

    const active = data.activeProjectId === undefined ? null : data.activeProjectId
    if (typeof active === 'string' || active === null) {
      if (base ? active !== base.activeProjectId : active !== this.local.activeProjectId) this.setLocal('activeProjectId', active)
    } else {
      this.report('bad-argument', `saveStore was given "activeProjectId" as ${describeValue(active)}; the active project was left as it is`)
    }
    const relayJson = canonicalJson(data.relayWorkspace ?? null)
    if (relayJson !== (base ? base.relayWorkspace : canonicalJson(this.local.relayWorkspace ?? null))) {
      this.setLocal('relayWorkspace', structuredClone(data.relayWorkspace))
    }
    const topLevel: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(data)) {
      if (key !== 'projects' && key !== 'activeProjectId' && key !== 'relayWorkspace' && key !== 'orchard') topLevel[key] = value
    }
    if (canonicalJson(topLevel) !== canonicalJson(this.local.topLevel)) this.setLocal('topLevel', topLevel)
  }

  /** API-10: as Pear: `{ id, createdAt }` read off the stored record as it is, or null if there is none. */
  getRelayWorkspace = (): RelayWorkspace | null => {
    this.refresh()
    const record = this.local.relayWorkspace as { id?: unknown; createdAt?: unknown } | null | undefined
    if (!record) return null
    return { id: record.id, createdAt: record.createdAt } as RelayWorkspace
  }

  setRelayWorkspace = (workspace: RelayWorkspace): void => {
    this.refresh()
    const record = normalizeRelayWorkspace(workspace)
    this.setLocal('relayWorkspace', record ? { id: record.id, createdAt: record.createdAt } : undefined)
  }

  clearRelayWorkspace = (): void => {
    this.refresh()
    this.setLocal('relayWorkspace', undefined)
  }

  /** API-10: the stored record as it is, as Pear returns it. */
  getRelayWorkspaceRecord = (): RelayWorkspaceRecord | undefined => {
    this.refresh()
    return structuredClone(this.local.relayWorkspace) as RelayWorkspaceRecord | undefined
  }

  setRelayWorkspaceRecord = (record: RelayWorkspaceRecord | null): void => {
    this.refresh()
    this.setLocal('relayWorkspace', normalizeRelayWorkspace(record))
  }

  addProject = (name: string, rootPath: string): Project => {
    this.assertWritable()
    this.refresh()
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
    this.refresh()
    if (holdsProject(this.model, id)) this.model.removeProject(id)
    if (this.local.projects[id]) {
      delete this.local.projects[id]
      this.touchLocal('projects')
    }
    // Pear's filter removes every entry with the id, duplicates too (PEAR-14). An unchanged
    // list is no change: setDuplicates compares before it touches anything.
    const duplicates = this.local.duplicates.filter((entry) => !(isRecord(entry.entry) && entry.entry.id === id))
    this.setDuplicates(duplicates, 'removeProject')
    if (this.local.activeProjectId === id) this.setLocal('activeProjectId', null)
  }

  setActiveProject = (id: string | null): void => {
    this.refresh()
    // API-12: Pear writes any value here and its next load then reads the whole file as
    // empty; Orchard takes a string or null (undefined is null, as in Pear's file).
    if (id !== undefined && id !== null && typeof id !== 'string') {
      this.report('bad-argument', `setActiveProject was given ${describeValue(id)}, not a project id or null; the active project was left as it is`)
      return
    }
    this.setLocal('activeProjectId', id ?? null)
  }

  addProjectChannel = (projectId: string, channelName: string): void => {
    this.assertWritable()
    this.refresh()
    const project = this.model.getProject(projectId)
    const normalized = normalizeChannelName(channelName)
    if (project && normalized && !project.channels.includes(normalized)) this.model.addChannel(projectId, normalized)
  }

  removeProjectChannel = (projectId: string, channelName: string): void => {
    this.assertWritable()
    this.refresh()
    const project = this.model.getProject(projectId)
    // Pear slugs the name before it looks at the project: a non-string throws either way.
    const normalized = normalizeChannelName(channelName)
    if (project) this.model.removeChannel(projectId, normalized)
  }

  setProjectChannelPeople = (projectId: string, channelName: string, people: string[]): string[] => {
    this.assertWritable()
    this.refresh()
    const project = this.model.getProject(projectId)
    const normalized = normalizeChannelName(channelName)
    if (!project || !normalized || !project.channels.includes(normalized)) return []
    const normalizedPeople = normalizePeopleList(people)
    this.model.setChannelPeople(projectId, normalized, normalizedPeople)
    return normalizedPeople
  }

  findProjectsWithPath = (rootPath: string): Array<{ id: string; name: string }> => {
    this.refresh()
    const normalizedRootPath = resolve(rootPath)
    return withDuplicates(this.currentProjects(), this.local.duplicates)
      .filter((project) => project.roots.some((root) => resolve(root.path) === normalizedRootPath))
      .map((project) => ({ id: project.id, name: project.name }))
  }

  addProjectRoot = (projectId: string, rootPath: string, name?: string): ProjectRoot => {
    this.assertWritable()
    this.refresh()
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
    this.refresh()
    const project = this.currentProject(projectId)
    if (!project) return
    if (project.roots.length <= 1) throw new Error(LAST_ROOT)
    if (project.roots.some((root) => root.id === rootId)) this.model.removeRoot(projectId, rootId)
  }

  addProjectIntegration = (projectId: string, name: string, type = 'custom'): ProjectIntegration => {
    this.assertWritable()
    this.refresh()
    if (!this.model.getProject(projectId)) throw new Error(PROJECT_NOT_FOUND)
    // Parsed without an id, as Pear does, so the keys come out in Pear's order (name,
    // type, id: a diff-friendly file); the id is then this store's.
    const integration: ProjectIntegration = { ...ProjectIntegrationSchema.parse({ name, type }), id: this.newId() }
    this.model.addIntegration(projectId, integration)
    return integration
  }

  removeProjectIntegration = (projectId: string, integrationId: string): void => {
    this.assertWritable()
    this.refresh()
    if (this.model.getProject(projectId)) this.model.removeIntegration(projectId, integrationId)
  }

  updateProject = (id: string, update: Partial<Project>): void => {
    this.assertWritable()
    this.refresh()
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

  /** FILE-12: another process's write to projects.json is merged before any answer. */
  private refresh(): void {
    this.writer?.checkDisk()
  }

  /** PEAR-14: the entries kept beside the doc because an earlier entry has their id. */
  private setDuplicates(next: DuplicateEntry[], where: 'saveStore' | 'removeProject' | 'file'): void {
    // Key order counts (PEAR-15): the file keeps each entry as it was given, as Pear writes it.
    if (JSON.stringify(next) === JSON.stringify(this.local.duplicates)) return
    // Reported when an id gains an entry, not when a known duplicate is edited or moved.
    const known = new Map<unknown, number>()
    for (const entry of this.local.duplicates) known.set(duplicateId(entry), (known.get(duplicateId(entry)) ?? 0) + 1)
    const fresh = next.filter((entry) => {
      const left = known.get(duplicateId(entry)) ?? 0
      known.set(duplicateId(entry), left - 1)
      return left <= 0
    })
    this.local.duplicates = next
    if (where !== 'file') this.touchLocal('duplicates')
    // removeProject only drops entries, so it never has a fresh one to report.
    if (fresh.length > 0) this.reportDuplicates(fresh)
  }

  private reportDuplicates(entries: DuplicateEntry[]): void {
    const ids = [...new Set(entries.map((entry) => (entry.entry as { id: string }).id))]
    this.report(
      'duplicate-ids',
      `${entries.length} project entr${entries.length === 1 ? 'y has' : 'ies have'} the id of an earlier project (${ids.join(', ')}). ` +
        'Pear shows both, and so does this store; only the first is shared with the workspace, the others stay in this file as they are. ' +
        'Give each project its own id to share it'
    )
  }

  /**
   * The file is to be written (debounced). Never while the doc is a newer Orchard's (DOC-4):
   * its projects cannot be read here, so a rewrite would empty the file's projects.
   */
  private scheduleSave(): void {
    if (!this.model.readOnlyReason) this.writer?.markDirty()
  }

  private assertWritable(): void {
    if (this.frozen) throw new ReadOnlyWorkspaceError(this.frozen.reason)
  }

  private setLocal<K extends 'activeProjectId' | 'relayWorkspace' | 'topLevel'>(key: K, value: LocalState[K]): void {
    // An undefined value is no value: every reader of local state (loadStore, the file's
    // render, the merge) treats a key set to undefined as one that is absent.
    this.local[key] = value
    this.touchLocal(key)
  }

  private touchLocal(key: string): void {
    this.dirtyLocal.add(key)
    this.scheduleSave()
  }

  private handleModelChange(change: WorkspaceChange): void {
    // FILE-14: what came from the file is in the file; only other changes need a save.
    if (change.origin !== FILE_ORIGIN) this.scheduleSave()
    if (change.local && change.origin !== FILE_ORIGIN) return
    this.emit('change', [{ projectIds: change.projectIds, source: change.origin === FILE_ORIGIN ? 'file' : 'remote' }])
  }

  private render(): string {
    // PEAR-5: a project that stores no channel is written with `channels: []`, as Pear
    // writes it after its last channel is removed; every reader shows `general`.
    const shared = this.currentProjects().map((project) =>
      this.model.hasImplicitChannels(project.id) ? { ...project, channels: [] } : project
    )
    // PEAR-15: each project keeps the key order Pear would write it in.
    const ordered = shared.map((project) => orderLike(project, this.saveTemplates.get(project.id) ?? this.loadOrder(this.diskEntries.get(project.id))))
    this.saveTemplates.clear()
    const placed = placeDuplicates(ordered, this.local.duplicates)
    this.setDiskReference(placed)
    return renderSnapshot({
      projects: placed.map((entry) => entry.entry),
      duplicates: placed.flatMap((entry, index) => (entry.duplicate ? [{ index, entry: entry.entry }] : [])),
      local: this.local,
      workspaceId: this.workspaceId,
      schemaMajor: SCHEMA_MAJOR,
      update: Y.encodeStateAsUpdateV2(this.doc)
    })
  }

  private setDiskReference(reference: readonly RoledEntry[]): void {
    this.diskReference = reference
    this.diskEntries = new Map()
    for (const { entry, duplicate } of reference) {
      if (!duplicate && isRecord(entry) && typeof entry.id === 'string' && !this.diskEntries.has(entry.id)) this.diskEntries.set(entry.id, entry)
    }
  }

  /**
   * PEAR-15: this machine's view of a project with its keys in the order Pear's loadStore
   * gives them: its loader's order of the file's entry, or of the entry last given to
   * saveStore. Cached per view, so an unchanged project is reordered once.
   */
  private orderedView(shared: SharedProject): Readonly<Project> {
    const view = viewProject(shared, this.local.projects[shared.id])
    // No template (a project new here or from another machine): orderLike keeps the view as it is.
    const template = this.loadOrder(this.saveTemplates.get(shared.id) ?? this.diskEntries.get(shared.id))
    const cached = this.orderedViews.get(view)
    if (cached && cached.template === template) return cached.ordered
    const ordered = orderLike(view, template)
    this.orderedViews.set(view, { template, ordered })
    return ordered
  }

  private loadOrder(entry: unknown): unknown {
    if (!isRecord(entry)) return undefined
    let order = this.loadOrders.get(entry)
    if (order === undefined) {
      order = pearLoadOrder(entry)
      this.loadOrders.set(entry, order)
    }
    return order
  }

  private parseForLoad(text: string): { snapshot: ParsedSnapshot } | undefined {
    const file = this.file as string
    const outcome = parseSnapshot(text)
    if (outcome.ok) {
      const { snapshot } = outcome
      if (snapshot.problems.length > 0) {
        this.preservedOnLoad = preserveAside(file, 'invalid')
        this.report('invalid-entries', snapshot.problems.join('; '), this.preservedOnLoad)
      }
      return { snapshot }
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
          quarantine: [],
          duplicates: []
        },
        problems: []
      }
    }
  }

  /**
   * Brings a parsed projects.json into this replica: its Yjs update, then any edits made
   * to its plain part by hand or by a Pear without Orchard (FILE-3), or the whole plain
   * part for a legacy file (FILE-2).
   */
  private importSnapshot(snapshot: ParsedSnapshot, mode: 'load' | 'merge'): void {
    // Only a store with a file imports one (at open, or merging another process's write).
    const file = this.file as string
    const { orchard } = snapshot
    if (orchard && (orchard.schemaMajor > SCHEMA_MAJOR || orchard.format > FILE_FORMAT)) {
      const written =
        `${file} was written by a newer Orchard (file format ${orchard.format}, schema ${orchard.schemaMajor}); ` +
        `this one understands format ${FILE_FORMAT}, schema ${SCHEMA_MAJOR}.`
      if (mode === 'load') {
        const reason = `${written} It is shown read-only and will not be rewritten; update Orchard to edit it`
        this.frozen = { reason, projects: snapshot.projects.flatMap((raw) => { const p = parseProject(raw); return p.ok ? [p.project] : [] }) }
        this.local = snapshot.local
        this.report('newer-schema', reason)
        return
      }
      // A newer Orchard wrote it while this store has it open: this store cannot read its
      // edits, and its next save replaces the file (FILE-8: never without a copy).
      this.report(
        'newer-schema',
        `${written} Its changes are not merged here, and this store's next save replaces it; update Orchard on this machine to share one file`,
        preserveAside(file, 'newer-schema')
      )
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

    // PEAR-14: which entries of the file are duplicates is read against the array the
    // file's writer rendered (its roles are known), never off their positions alone.
    // `base`: the array the plain part was made from, when it must be imported as edits.
    // Without a replica that is what this store last read or wrote (at load: nothing yet,
    // so the whole plain part is imported).
    let base: readonly RoledEntry[] | undefined
    let roles: readonly RoledEntry[] | undefined
    if (orchard) {
      try {
        const update = decodeUpdate(orchard)
        Y.applyUpdateV2(this.doc, update, FILE_ORIGIN)
        if (viewHash(snapshot.projects) !== orchard.viewHash) base = placeDuplicates(this.viewOfUpdate(update, snapshot.local), orchard.duplicates)
        else roles = rolesAt(snapshot.projects, orchard.duplicates)
      } catch (error) {
        // FILE-8: the replica is rebuilt from the plain part, so the next save would replace
        // the file's own replica (its history, its removals) without a copy.
        const preservedAt = preserveAside(file, 'corrupt')
        this.report('unreadable-file', `its workspace replica could not be decoded (${(error as Error).message}); importing its plain projects instead`, preservedAt)
        base = this.diskReference
      }
    } else if (mode === 'load' && !this.importLegacy) {
      if (snapshot.projects.length > 0 && this.file) {
        const preservedAt = preserveAside(this.file, 'before-join')
        this.logger.warn(`[orchard] ${this.file}: its ${snapshot.projects.length} local project(s) were not added to workspace ${this.workspaceId}; the file is kept at ${preservedAt}`)
      }
    } else {
      base = this.diskReference
    }
    this.adoptLocal(snapshot.local, mode, { withProjects: true })
    const reference = roles ?? base
    // Projects kept out of the workspace (FILE-10) have no duplicates in it either.
    const classified = reference ? classifyEntries(reference, snapshot.projects) : { duplicateAt: new Set<number>(), duplicates: [] }
    // Unless this store changed its duplicates since its last save. At load nothing is
    // dirty and none are known yet, so every duplicate the file holds is new and reported.
    if (!this.dirtyLocal.has('duplicates')) this.setDuplicates(classified.duplicates, 'file')

    if (base) this.importPlain(base.flatMap((entry) => (entry.duplicate ? [] : [entry.entry])), snapshot.projects, mode, classified.duplicateAt)
    this.setDiskReference(snapshot.projects.map((entry, index) => ({ entry, duplicate: classified.duplicateAt.has(index) })))
  }

  /** The projects a file's update alone describes, as that file's machine saw them. */
  private viewOfUpdate(update: Uint8Array, local: LocalState): Project[] {
    const doc = new Y.Doc()
    Y.applyUpdateV2(doc, update)
    const model = new WorkspaceModel(doc)
    const projects = model.listProjects().map((shared) => cloneProject(viewProject(shared, local.projects[shared.id])))
    model.destroy()
    doc.destroy()
    return projects
  }

  private importPlain(base: readonly unknown[], target: unknown[], mode: 'load' | 'merge', duplicateAt: ReadonlySet<number>): void {
    if (this.model.readOnlyReason) return
    const baseProjects = base.flatMap((raw) => {
      const parsed = parseProject(raw)
      return parsed.ok ? [parsed.project] : []
    })
    const before = Y.getState(this.doc.store, this.doc.clientID)
    const result = this.model.transact(
      () => applyProjectsDiff(this.model, this.local, baseProjects, target, (id) => this.currentProject(id), duplicateAt),
      FILE_ORIGIN
    )
    // Merged from another process's plain write, these edits are new items only this
    // replica holds: they are saved, or a restart would make them again as other items
    // (and a removal of one copy would not remove the other). At open there is no writer
    // yet: the constructor decides what an open saves (FILE-14).
    if (Y.getState(this.doc.store, this.doc.clientID) > before) this.scheduleSave()
    // Saved, but not marked as changed here: it came from the file, so a later write to the
    // file (one undoing it, say) is taken over it, as a fresh open would read it.
    if (result.localChanged) this.scheduleSave()
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
      // Kept in the next save; the quarantine merges as a union, so it needs no "changed here" mark.
      this.scheduleSave()
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
    // API-10: as found, a non-object or null included (a load keeps those too).
    if (!this.dirtyLocal.has('relayWorkspace')) this.local.relayWorkspace = disk.relayWorkspace
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
      // Now, not at this store's next change: until then no Pear could read the file.
      this.scheduleSave()
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

/**
 * What Yjs holds as pending (updates whose dependencies have not arrived), as text that
 * changes whenever it does. Byte lengths alone are not enough: a second pending removal
 * next to the first merges into one range of the same size, so it was never saved and a
 * restart brought the removed item back.
 */
function pendingSignature(doc: Y.Doc): string {
  const { pendingStructs, pendingDs } = doc.store
  const structs = bytesText(pendingStructs?.update)
  return `${structs.length}:${structs}${bytesText(pendingDs)}`
}

function bytesText(bytes: Uint8Array | null | undefined): string {
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') : ''
}

/** Pear's store API bound to a projects.json (and optionally a shared doc). */
export function createPearStore(options: PearStoreOptions = {}): PearStore {
  return new PearStore(options)
}

function duplicateId(entry: DuplicateEntry): unknown {
  return isRecord(entry.entry) ? entry.entry.id : undefined
}

function byIndex(entries: DuplicateEntry[]): DuplicateEntry[] {
  return entries.sort((a, b) => a.index - b.index)
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  return `a ${typeof value}`
}

/** FILE-14: the workspace id every process gives a legacy file with this text. */
function legacyWorkspaceId(text: string): string {
  const hex = createHash('sha256').update(`orchard-legacy-workspace\u0000${text}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-b${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** FILE-14: the Yjs client every process imports the plain part of a file with this text as (never 0). */
function importClientId(text: string): number {
  return createHash('sha256').update(`orchard-legacy-client\u0000${text}`).digest().readUInt32BE(0) || 1
}
