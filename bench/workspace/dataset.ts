/**
 * Realistic projects.json contents, shaped like /work/shared/fixtures/pear-projects.sample.json:
 * UUID ids, "Project 123" names, one or two absolute roots, 'general' plus a few channels,
 * people on one channel, one or two integrations, now and then a workspace mode or
 * proactive-agent bindings. Every project is already in the shape Pear's loader gives it,
 * so neither store rewrites anything when it first reads the file.
 */
import { basename } from 'node:path'
import type { Project, StoreData } from '../../packages/workspace/src/index.js'
import type { Prng } from './prng.js'

const USERS = ['ana', 'ben', 'chen', 'dara', 'eli']
const DIRS = ['code', 'src', 'work', 'repos']
const EXTRA_CHANNELS = ['frontend', 'backend', 'release-notes', 'design', 'ops', 'qa', 'infra', 'support']
const PEOPLE = ['ana', 'Ben', 'chen', 'Dara', 'eli', 'fay', 'Gus']
const SECOND_ROOTS = ['docs', 'api', 'web', 'infra']

export function makeProject(rng: Prng, index: number): Project {
  const id = rng.uuid()
  const user = rng.pick(USERS)
  const base = `/home/${user}/${rng.pick(DIRS)}/project-${index}`
  const roots = [{ id: rng.uuid(), name: basename(base), path: base }]
  if (rng.chance(0.4)) {
    const second = `${base}-${rng.pick(SECOND_ROOTS)}`
    roots.push({ id: rng.uuid(), name: basename(second), path: second })
  }

  const channels = ['general']
  const extra = rng.int(4)
  for (let i = 0; i < extra; i++) {
    const channel = rng.pick(EXTRA_CHANNELS)
    if (!channels.includes(channel)) channels.push(channel)
  }
  const peopleChannel = rng.pick(channels)
  const people: string[] = []
  const count = 1 + rng.int(3)
  for (let i = 0; i < count; i++) {
    const person = rng.pick(PEOPLE)
    if (!people.some((known) => known.toLowerCase() === person.toLowerCase())) people.push(person)
  }

  const integrations: Project['integrations'] = [
    { id: rng.uuid(), name: 'GitHub', type: 'github', repo: `example/project-${index}` }
  ]
  if (rng.chance(0.5)) integrations.push({ id: rng.uuid(), name: rng.pick(['Notes', 'Linear', 'Docs']), type: 'custom' })

  const project: Project = {
    id,
    name: `Project ${index}`,
    relayWorkspaceId: id,
    rootPath: base,
    roots,
    channels,
    channelPeople: { [peopleChannel]: people },
    integrations
  }
  if (rng.chance(0.3)) project.cloudAgentWorkspaceMode = 'git-overlay'
  if (rng.chance(0.2)) project.proactiveAgents = { bindings: [] }
  return project
}

export function makeStoreData(rng: Prng, count: number): StoreData {
  const projects = Array.from({ length: count }, (_, index) => makeProject(rng, index))
  return {
    projects,
    activeProjectId: projects[0]?.id ?? null,
    relayWorkspace: {
      id: `rw_${rng.uuid().slice(0, 8)}`,
      createdAt: '2026-10-01T09:00:00.000Z',
      authKey: `local-secret-${rng.uuid()}`
    }
  }
}
