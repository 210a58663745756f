/**
 * A small reference model of the merge rules (SPEC MERGE-n), fed every edit the
 * convergence properties make, with who made it and what that replica had seen. After
 * the network settles, every replica must show what the model says survived, so an
 * operation that does nothing (or undoes another's edit it never saw) fails the run:
 *
 * - a project added (valid by Pear's rules) is shown unless it was removed; removal wins
 *   over every concurrent edit (MERGE-4);
 * - a project's name is one of the names it was given; once renamed, one of the renames
 *   (MERGE-3: one value wins, never a lost one and never the original after a rename);
 * - a channel added is shown unless a removal of that channel saw every add of it
 *   (MERGE-1, MERGE-2: a removal removes what it saw, a concurrent add survives), and
 *   nothing shows a channel nobody added;
 * - an integration added is shown unless it was removed (ids are unique, so a removal
 *   always saw the add);
 * - an entry with a duplicate id written into a replica's file by another process stays
 *   in that replica's loadStore until that replica removes the project (PEAR-14).
 * `general` is left out: every project has it implicitly (PEAR-5).
 */
import * as Y from 'yjs'
import { normalizeChannelName, type PearStore, type Project } from '@orchard/workspace'

interface Stamp {
  client: number
  clock: number
}

interface ProjectFacts {
  removed: boolean
  names: Set<string>
  renames: Set<string>
  channelAdds: Array<{ channel: string; at: Stamp }>
  channelRemovals: Array<{ channel: string; seen: Map<number, number> }>
  integrations: Map<string, boolean>
}

export class MergeModel {
  private readonly projects = new Map<string, ProjectFacts>()
  private readonly duplicates = new Map<number, Array<{ id: string; name: string }>>()

  /** Where the next edit by this store will be: its client and the clock it starts at. */
  stamp(store: PearStore): Stamp {
    const client = store.doc.clientID
    return { client, clock: Y.getState(store.doc.store, client) }
  }

  private seen(store: PearStore): Map<number, number> {
    return Y.decodeStateVector(Y.encodeStateVector(store.doc))
  }

  addProject(project: Project): void {
    this.projects.set(project.id, {
      removed: false,
      names: new Set([project.name]),
      renames: new Set(),
      channelAdds: [],
      channelRemovals: [],
      integrations: new Map()
    })
  }

  removeProject(id: string, replica: number): void {
    const facts = this.projects.get(id)
    if (facts) facts.removed = true
    const dups = this.duplicates.get(replica)
    if (dups) this.duplicates.set(replica, dups.filter((entry) => entry.id !== id))
  }

  rename(id: string, name: string): void {
    const facts = this.projects.get(id)
    facts?.names.add(name)
    facts?.renames.add(name)
  }

  /** Records an add only if it pushes: a channel the replica already shows is not added again. */
  addChannel(id: string, raw: string, shownBefore: readonly string[], at: Stamp): void {
    const channel = normalizeChannelName(raw)
    if (!channel || channel === 'general' || shownBefore.includes(channel)) return
    this.projects.get(id)?.channelAdds.push({ channel, at })
  }

  removeChannel(id: string, channel: string, store: PearStore): void {
    if (channel === 'general') return
    this.projects.get(id)?.channelRemovals.push({ channel, seen: this.seen(store) })
  }

  addIntegration(id: string, integrationId: string): void {
    this.projects.get(id)?.integrations.set(integrationId, false)
  }

  removeIntegration(id: string, integrationId: string): void {
    const integrations = this.projects.get(id)?.integrations
    if (integrations?.has(integrationId)) integrations.set(integrationId, true)
  }

  addDuplicate(replica: number, id: string, name: string): void {
    const list = this.duplicates.get(replica) ?? []
    list.push({ id, name })
    this.duplicates.set(replica, list)
  }

  renameDuplicate(replica: number, id: string, from: string, to: string): void {
    const dup = this.duplicates.get(replica)?.find((entry) => entry.id === id && entry.name === from)
    if (dup) dup.name = to
  }

  /** Every difference between a replica's view and the model, each with the rule it breaks. */
  check(view: readonly Project[], replica: number, all: readonly Project[]): string[] {
    const problems: string[] = []
    const shown = new Map<string, Project>()
    for (const project of view) if (!shown.has(project.id)) shown.set(project.id, project)
    for (const [id, facts] of this.projects) {
      const project = shown.get(id)
      if (facts.removed) {
        if (project) problems.push(`MERGE-4: project ${id} was removed but is shown`)
        continue
      }
      if (!project) {
        problems.push(`project ${id} was added and never removed, but is not shown`)
        continue
      }
      const names = facts.renames.size > 0 ? facts.renames : facts.names
      if (!names.has(project.name)) problems.push(`MERGE-3: project ${id} is named ${JSON.stringify(project.name)}, which is none of ${JSON.stringify([...names])}`)
      const expected = new Set<string>()
      for (const add of facts.channelAdds) {
        const removedBy = facts.channelRemovals.find((removal) => removal.channel === add.channel && (removal.seen.get(add.at.client) ?? 0) > add.at.clock)
        if (!removedBy) expected.add(add.channel)
      }
      const added = new Set(facts.channelAdds.map((add) => add.channel))
      for (const channel of expected) {
        if (!project.channels.includes(channel)) problems.push(`MERGE-1: channel ${channel} of ${id} was added and no removal saw that add, but it is gone`)
      }
      for (const channel of project.channels) {
        if (channel === 'general') continue
        if (!added.has(channel)) problems.push(`channel ${channel} of ${id} is shown but nobody added it`)
        else if (!expected.has(channel)) problems.push(`MERGE-1: channel ${channel} of ${id} is shown though a removal saw every add of it`)
      }
      for (const [integrationId, removed] of facts.integrations) {
        const present = project.integrations.some((integration) => integration.id === integrationId)
        if (present === removed) problems.push(`MERGE-11: integration ${integrationId} of ${id} is ${present ? 'shown though removed' : 'gone though never removed'}`)
      }
    }
    for (const id of shown.keys()) if (!this.projects.has(id)) problems.push(`project ${id} is shown but nobody added it`)
    for (const dup of this.duplicates.get(replica) ?? []) {
      if (!all.some((project) => project.id === dup.id && project.name === dup.name)) {
        problems.push(`PEAR-14: the duplicate entry ${dup.id} (${dup.name}) written into replica ${replica}'s file is not in its loadStore`)
      }
    }
    return problems
  }
}
