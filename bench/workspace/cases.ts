/**
 * The store operations measured, written once against Pear's API so Pear's way and
 * Orchard's PearStore get exactly the same calls with the same inputs. Each run (Pear,
 * Orchard op, Orchard op + flush) has its own RunState: a tag that keeps its names
 * distinct (so every call really changes something) and what its adds created, which
 * its removals then take away (so the store ends the size about where it started).
 */
import type { PearStore } from '../../packages/workspace/src/index.js'
import type { PearWayStore } from './pear-way.js'

/** Pear's store API, as both implementations export it. */
export type StoreApi = Pick<
  PearStore,
  | 'loadStore'
  | 'saveStore'
  | 'addProject'
  | 'removeProject'
  | 'setActiveProject'
  | 'updateProject'
  | 'addProjectChannel'
  | 'removeProjectChannel'
  | 'setProjectChannelPeople'
  | 'addProjectRoot'
  | 'removeProjectRoot'
  | 'addProjectIntegration'
  | 'removeProjectIntegration'
  | 'findProjectsWithPath'
  | 'setRelayWorkspaceRecord'
>

// Pear's way must offer the same signatures; this line fails to compile if it drifts.
const _sameApi: (store: PearWayStore) => StoreApi = (store) => store
void _sameApi

export interface RunState {
  /** Distinguishes this run's names and paths from the other runs on the same data. */
  tag: string
  /** Ids of existing projects, one per repetition (the same sequence for every run). */
  targets: readonly string[]
  /** A root path of each target project, for findProjectsWithPath. */
  targetPaths: readonly string[]
  addedProjects: string[]
  removedProjects: number
  addedChannels: Array<[projectId: string, channel: string]>
  addedRoots: Array<[projectId: string, rootId: string]>
  addedIntegrations: Array<[projectId: string, integrationId: string]>
}

export function newRunState(tag: string, targets: readonly string[], targetPaths: readonly string[]): RunState {
  return { tag, targets, targetPaths, addedProjects: [], removedProjects: 0, addedChannels: [], addedRoots: [], addedIntegrations: [] }
}

export interface OpCase {
  name: string
  run(api: StoreApi, rep: number, state: RunState): void
  /** True for queries: they change nothing. */
  readOnly?: boolean
  /** For removals: how many repetitions the matching add left material for. */
  available?(state: RunState): number
}

function target(state: RunState, rep: number): string {
  return state.targets[rep % state.targets.length] as string
}

function taken<T>(items: readonly T[], rep: number, what: string): T {
  const item = items[rep]
  if (item === undefined) throw new Error(`bench: no ${what} left to remove (rep ${rep})`)
  return item
}

export const OP_CASES: readonly OpCase[] = [
  {
    name: 'addProject',
    run(api, rep, state) {
      state.addedProjects.push(api.addProject(`Bench ${state.tag} ${rep}`, `/home/bench/${state.tag}/new-${rep}`).id)
    }
  },
  {
    name: 'removeProject',
    available: (state) => state.addedProjects.length,
    run(api, rep, state) {
      api.removeProject(taken(state.addedProjects, rep, 'project'))
      state.removedProjects++
    }
  },
  {
    name: 'setActiveProject',
    run(api, rep, state) {
      api.setActiveProject(target(state, rep))
    }
  },
  {
    name: 'updateProject (rename)',
    run(api, rep, state) {
      api.updateProject(target(state, rep), { name: `Renamed ${state.tag} ${rep}` })
    }
  },
  {
    name: 'addProjectChannel',
    run(api, rep, state) {
      const projectId = target(state, rep)
      api.addProjectChannel(projectId, `Bench ${state.tag} ${rep}`)
      state.addedChannels.push([projectId, `bench-${state.tag}-${rep}`])
    }
  },
  {
    name: 'setProjectChannelPeople',
    run(api, rep, state) {
      const people = api.setProjectChannelPeople(target(state, rep), 'general', ['ana', 'Ben', `guest-${state.tag}-${rep}`])
      if (people.length !== 3) throw new Error('bench: setProjectChannelPeople did not apply')
    }
  },
  {
    name: 'removeProjectChannel',
    available: (state) => state.addedChannels.length,
    run(api, rep, state) {
      const [projectId, channel] = taken(state.addedChannels, rep, 'channel')
      api.removeProjectChannel(projectId, channel)
    }
  },
  {
    name: 'addProjectRoot',
    run(api, rep, state) {
      const projectId = target(state, rep)
      state.addedRoots.push([projectId, api.addProjectRoot(projectId, `/home/bench/${state.tag}/extra-${rep}`).id])
    }
  },
  {
    name: 'removeProjectRoot',
    available: (state) => state.addedRoots.length,
    run(api, rep, state) {
      const [projectId, rootId] = taken(state.addedRoots, rep, 'root')
      api.removeProjectRoot(projectId, rootId)
    }
  },
  {
    name: 'addProjectIntegration',
    run(api, rep, state) {
      const projectId = target(state, rep)
      state.addedIntegrations.push([projectId, api.addProjectIntegration(projectId, `Linear ${state.tag} ${rep}`, 'linear').id])
    }
  },
  {
    name: 'removeProjectIntegration',
    available: (state) => state.addedIntegrations.length,
    run(api, rep, state) {
      const [projectId, integrationId] = taken(state.addedIntegrations, rep, 'integration')
      api.removeProjectIntegration(projectId, integrationId)
    }
  },
  {
    name: 'findProjectsWithPath',
    readOnly: true,
    run(api, rep, state) {
      const found = api.findProjectsWithPath(state.targetPaths[rep % state.targetPaths.length] as string)
      if (found.length !== 1) throw new Error(`bench: findProjectsWithPath found ${found.length} projects, expected 1`)
    }
  },
  {
    name: 'setRelayWorkspaceRecord',
    run(api, rep, state) {
      api.setRelayWorkspaceRecord({
        id: `rw_${state.tag}_${rep}`,
        createdAt: '2026-10-01T09:00:00.000Z',
        authKey: `local-secret-${state.tag}-${rep}`
      })
    }
  },
  {
    name: 'loadStore → rename one → saveStore',
    run(api, rep, state) {
      const data = api.loadStore()
      const projectId = target(state, rep)
      const project = data.projects.find((entry) => entry.id === projectId)
      if (!project) throw new Error('bench: target project missing from loadStore()')
      project.name = `RMW ${state.tag} ${rep}`
      api.saveStore(data)
    }
  }
]
