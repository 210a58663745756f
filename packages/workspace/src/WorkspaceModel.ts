/**
 * The workspace data model: a typed API over the workspace Y.Doc. Every edit Pear makes
 * is one small Yjs edit here, shaped so concurrent edits merge as SPEC.md's MERGE rules
 * say. Reads come from a per-project cache that only changed projects invalidate, so a
 * single-project edit costs the same at 10 or 10,000 projects.
 */
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import {
  PREFIX,
  PROJECT_KEY,
  SCHEMA_MAJOR,
  SCHEMA_MINOR,
  docParts,
  projectParts,
  readSchemaVersion,
  type DocParts,
  type ProjectParts,
  type RootRecord,
  type ScalarField
} from './doc-layout.js'
import { ReadOnlyWorkspaceError } from './errors.js'
import { readProject, type SharedProject } from './project-view.js'
import type { JsonValue, ProjectIntegration } from './types.js'

export interface WorkspaceChange {
  /** Projects whose view may have changed (added, edited or removed). */
  projectIds: string[]
  /** True when the project list order or membership changed. */
  listChanged: boolean
  /** True for edits made through this doc, false for updates applied from elsewhere. */
  local: boolean
  origin: unknown
}

export type WorkspaceModelEvents = {
  change: (change: WorkspaceChange) => void
}

/** What a new project record holds; paths are as on the machine that adds it. */
export interface NewProjectRecord {
  id: string
  name: string
  relayWorkspaceId: string
  rootPath: string
  roots: RootRecord[]
  channels: string[]
  channelPeople: Record<string, string[]>
  integrations: ProjectIntegration[]
  scalars?: Partial<Record<ScalarField, JsonValue>>
  extra?: Record<string, JsonValue>
}

export class WorkspaceModel extends ObservableV2<WorkspaceModelEvents> {
  readonly doc: Y.Doc
  private readonly parts: DocParts
  private readonly views = new Map<string, SharedProject | null>()
  private orderIds: string[] | null = null
  private list: SharedProject[] | null = null
  private writeGuard: (() => void) | null = null
  private readonly onAfterTransaction: (tr: Y.Transaction) => void

  constructor(doc: Y.Doc) {
    super()
    this.doc = doc
    this.parts = docParts(doc)
    this.onAfterTransaction = (tr) => this.handleTransaction(tr)
    doc.on('afterTransaction', this.onAfterTransaction)
  }

  override destroy(): void {
    this.doc.off('afterTransaction', this.onAfterTransaction)
    super.destroy()
  }

  /** DOC-4: why this replica may not write, or null when it may. */
  get readOnlyReason(): string | null {
    const version = readSchemaVersion(this.doc)
    if (version && version.major > SCHEMA_MAJOR) {
      return `it was written with workspace schema ${version.major}.${version.minor}, and this Orchard understands ${SCHEMA_MAJOR}.x. Update Orchard to edit it.`
    }
    return null
  }

  /** Lets an upper layer (roles) refuse writes before they touch the doc; the guard throws. */
  setWriteGuard(guard: (() => void) | null): void {
    this.writeGuard = guard
  }

  listProjects(): readonly SharedProject[] {
    if (this.list) return this.list
    const list: SharedProject[] = []
    for (const id of this.projectIds()) {
      const view = this.view(id)
      if (view) list.push(view)
    }
    this.list = list
    return list
  }

  getProject(id: string): SharedProject | undefined {
    if (this.parts.removedProjects.has(id)) return undefined
    return this.view(id) ?? undefined
  }

  /** True if the id was removed; such a project is never re-created (MERGE-4). */
  isRemoved(id: string): boolean {
    return this.parts.removedProjects.has(id)
  }

  /** Runs several edits as one Yjs transaction (one update on the wire, one save). */
  transact<T>(fn: () => T, origin: unknown = this): T {
    let result!: T
    this.doc.transact(() => {
      result = fn()
    }, origin)
    return result
  }

  addProject(record: NewProjectRecord): void {
    this.addProjects([record])
  }

  /** Adds many projects in one transaction, their ids appended to the order in one push. */
  addProjects(records: readonly NewProjectRecord[]): void {
    this.assertWritable()
    const fresh = records.filter((record) => !this.parts.removedProjects.has(record.id))
    if (fresh.length === 0) return
    this.transact(() => {
      this.ensureSchema()
      const appended: string[] = []
      for (const record of fresh) if (this.createRecord(record)) appended.push(record.id)
      if (appended.length > 0) this.parts.projectOrder.push(appended)
    })
  }

  /** Writes one project record; true if its id is new to the order array. */
  private createRecord(record: NewProjectRecord): boolean {
    {
      const map = new Y.Map<unknown>()
      map.set(PROJECT_KEY.name, record.name)
      // PEAR-1: the default relayWorkspaceId is the project id; store only a different one.
      if (record.relayWorkspaceId !== record.id) map.set(PROJECT_KEY.relayWorkspaceId, record.relayWorkspaceId)
      map.set(PROJECT_KEY.rootPath, record.rootPath)
      for (const [field, value] of Object.entries(record.scalars ?? {})) {
        if (value !== undefined) map.set(field, value)
      }
      map.set(PROJECT_KEY.roots, Y.Array.from(record.roots.map((root) => ({ ...root }))))
      map.set(PROJECT_KEY.channels, Y.Array.from(record.channels))
      map.set(PROJECT_KEY.integrations, Y.Array.from(record.integrations.map(integrationMap)))
      for (const [channel, people] of Object.entries(record.channelPeople)) {
        if (people.length > 0) map.set(PREFIX.people + channel, [...people])
      }
      for (const [key, value] of Object.entries(record.extra ?? {})) {
        if (value !== undefined) map.set(PREFIX.extra + key, value)
      }
      // A second add of the same id (two replicas importing one file) replaces the
      // record; the order array keeps both entries and reads them deduped (MERGE-5).
      const existed = this.parts.projects.has(record.id)
      this.parts.projects.set(record.id, map)
      return !existed
    }
  }

  /** MERGE-4: removal wins over concurrent edits of the project and is permanent. */
  removeProject(id: string): void {
    this.assertWritable()
    this.transact(() => {
      this.parts.removedProjects.set(id, true)
      this.parts.projects.delete(id)
      const order = this.parts.projectOrder.toArray()
      for (let index = order.length - 1; index >= 0; index--) {
        if (order[index] === id) this.parts.projectOrder.delete(index, 1)
      }
    })
  }

  /** MERGE-3: concurrent sets of one field keep one value everywhere (last writer wins). */
  setField(id: string, field: ScalarField, value: JsonValue | undefined): void {
    this.edit(id, (parts) => {
      if (value === undefined || (field === PROJECT_KEY.relayWorkspaceId && value === id)) parts.map.delete(field)
      else parts.map.set(field, value)
    })
  }

  setRootPath(id: string, rootPath: string): void {
    this.edit(id, (parts) => parts.map.set(PROJECT_KEY.rootPath, rootPath))
  }

  /** MERGE-6: concurrent adds of different roots all survive. */
  addRoot(id: string, root: RootRecord): void {
    this.edit(id, (parts) => {
      parts.roots.push([{ ...root }])
      parts.map.delete(PREFIX.rootRemoved + root.id)
    })
  }

  /** MERGE-7: removal is a tombstone, so a concurrent removal of every root cannot empty a project. */
  removeRoot(id: string, rootId: string): void {
    this.edit(id, (parts) => parts.map.set(PREFIX.rootRemoved + rootId, true))
  }

  renameRoot(id: string, rootId: string, name: string): void {
    this.edit(id, (parts) => {
      const records = parts.roots.toArray()
      const index = records.findIndex((root) => root.id === rootId)
      const current = records[index]
      if (!current || current.name === name) return
      parts.roots.delete(index, 1)
      parts.roots.insert(index, [{ ...current, name }])
    })
  }

  /**
   * MERGE-1/MERGE-2: adds of different channels all survive; the same channel added twice
   * reads once. MERGE-9: a channel (re)added starts with no people.
   */
  addChannel(id: string, channel: string): void {
    this.edit(id, (parts) => {
      // PEAR-5: a project with no channels has the implicit `general` (and may have
      // people on it); adding one keeps it, as Pear's load-push-save does.
      if (parts.channels.length === 0 && channel !== IMPLICIT_CHANNEL) parts.channels.push([IMPLICIT_CHANNEL])
      parts.channels.push([channel])
      parts.map.delete(PREFIX.people + channel)
    })
  }

  /** PEAR-5: true if the project stores no channel, so it reads as the implicit `general`. */
  hasImplicitChannels(id: string): boolean {
    const map = this.parts.projects.get(id)
    return map instanceof Y.Map && projectParts(map).channels.length === 0
  }

  /** MERGE-9: removing a channel also drops its people; a concurrent people set is hidden with it. */
  removeChannel(id: string, channel: string): void {
    this.edit(id, (parts) => {
      const channels = parts.channels.toArray()
      for (let index = channels.length - 1; index >= 0; index--) {
        if (channels[index] === channel) parts.channels.delete(index, 1)
      }
      parts.map.delete(PREFIX.people + channel)
    })
  }

  /** MERGE-10: a channel's people list is one value; concurrent sets keep the last writer's. */
  setChannelPeople(id: string, channel: string, people: string[]): void {
    this.edit(id, (parts) => {
      // Pear saves the implicit `general` as a real channel with its people (PEAR-5).
      if (parts.channels.length === 0 && channel === IMPLICIT_CHANNEL && people.length > 0) parts.channels.push([IMPLICIT_CHANNEL])
      if (people.length === 0) parts.map.delete(PREFIX.people + channel)
      else parts.map.set(PREFIX.people + channel, [...people])
    })
  }

  /** MERGE-1: concurrent adds of different integrations all survive. */
  addIntegration(id: string, integration: ProjectIntegration): void {
    this.edit(id, (parts) => parts.integrations.push([integrationMap(integration)]))
  }

  removeIntegration(id: string, integrationId: string): void {
    this.edit(id, (parts) => {
      const entries = parts.integrations.toArray()
      for (let index = entries.length - 1; index >= 0; index--) {
        if (entries[index]?.get('id') === integrationId) parts.integrations.delete(index, 1)
      }
    })
  }

  /** MERGE-11: integration fields merge per key (last writer wins per key). */
  setIntegrationField(id: string, integrationId: string, key: string, value: JsonValue | undefined): void {
    this.edit(id, (parts) => {
      for (const entry of parts.integrations) {
        if (entry.get('id') !== integrationId) continue
        if (value === undefined) entry.delete(key)
        else entry.set(key, value)
      }
    })
  }

  /** PEAR-11: unknown keys survive, each last writer wins. */
  setExtra(id: string, key: string, value: JsonValue | undefined): void {
    this.edit(id, (parts) => {
      if (value === undefined) parts.map.delete(PREFIX.extra + key)
      else parts.map.set(PREFIX.extra + key, value)
    })
  }

  private edit(id: string, fn: (parts: ProjectParts) => void): void {
    this.assertWritable()
    const map = this.parts.projects.get(id)
    // Edits to a removed or unknown project are dropped: removal wins (MERGE-4).
    if (!(map instanceof Y.Map) || this.parts.removedProjects.has(id)) return
    this.transact(() => {
      this.ensureSchema()
      fn(projectParts(map))
    })
  }

  private assertWritable(): void {
    const reason = this.readOnlyReason
    if (reason) throw new ReadOnlyWorkspaceError(reason)
    this.writeGuard?.()
  }

  private ensureSchema(): void {
    const meta = this.parts.meta
    if (meta.get('schemaMajor') !== SCHEMA_MAJOR) meta.set('schemaMajor', SCHEMA_MAJOR)
    const minor = meta.get('schemaMinor')
    if (typeof minor !== 'number' || minor < SCHEMA_MINOR) meta.set('schemaMinor', SCHEMA_MINOR)
  }

  private view(id: string): SharedProject | null {
    const cached = this.views.get(id)
    if (cached !== undefined) return cached
    const map = this.parts.projects.get(id)
    const view = map instanceof Y.Map && !this.parts.removedProjects.has(id) ? readProject(id, map) : null
    if (view) Object.freeze(view)
    this.views.set(id, view)
    return view
  }

  /** MERGE-5: the order array, deduped (first entry wins), then any record it misses by id. */
  private projectIds(): string[] {
    if (this.orderIds) return this.orderIds
    const seen = new Set<string>()
    const ids: string[] = []
    for (const id of this.parts.projectOrder) {
      if (seen.has(id) || !this.parts.projects.has(id) || this.parts.removedProjects.has(id)) continue
      seen.add(id)
      ids.push(id)
    }
    const strays = Array.from(this.parts.projects.keys())
      .filter((id) => !seen.has(id) && !this.parts.removedProjects.has(id))
      .sort()
    this.orderIds = ids.concat(strays)
    return this.orderIds
  }

  private handleTransaction(tr: Y.Transaction): void {
    const projectIds = new Set<string>()
    let listChanged = false
    const { projects, projectOrder, removedProjects } = this.parts as unknown as Record<string, Y.AbstractType<unknown>>
    for (const [changedType, keys] of tr.changed) {
      const type = changedType as unknown as Y.AbstractType<unknown>
      if (type === projects) {
        for (const key of keys) if (key !== null) projectIds.add(key)
        listChanged = true
      } else if (type === projectOrder) {
        listChanged = true
      } else if (type === removedProjects) {
        for (const key of keys) if (key !== null) projectIds.add(key)
        listChanged = true
      } else {
        const id = this.owningProject(type)
        if (id !== undefined) projectIds.add(id)
      }
    }
    if (projectIds.size === 0 && !listChanged) return
    for (const id of projectIds) this.views.delete(id)
    if (listChanged) this.orderIds = null
    this.list = null
    this.emit('change', [{ projectIds: Array.from(projectIds), listChanged, local: tr.local, origin: tr.origin }])
  }

  /** The project a nested type belongs to: walk up to the child of `projects`. */
  private owningProject(type: Y.AbstractType<unknown>): string | undefined {
    let current: Y.AbstractType<unknown> | null = type
    while (current && current._item) {
      const parent: unknown = current._item.parent
      if (parent === (this.parts.projects as unknown)) return current._item.parentSub ?? undefined
      current = parent instanceof Y.AbstractType ? (parent as Y.AbstractType<unknown>) : null
    }
    return undefined
  }
}

/** The channel a project without channels reads as (PEAR-5). */
const IMPLICIT_CHANNEL = 'general'

function integrationMap(integration: ProjectIntegration): Y.Map<unknown> {
  const map = new Y.Map<unknown>()
  for (const [key, value] of Object.entries(integration)) {
    if (value !== undefined) map.set(key, value)
  }
  return map
}

