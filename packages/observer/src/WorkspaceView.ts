/**
 * The workspace, live (OBSERVER-3): projects, who is connected, each project's agents with
 * state and lease holder, the activity feed, and terminals. Lists are small, so each
 * change re-renders its panel from the docs; terminal panes persist across renders.
 */
import type { ActivityEntry, AgentRecord, BrowserSession, ControlInstance, PresenceEntry, SharedProject } from '@orchard/client/browser'
import { h, replace, type Child } from './dom.js'
import { TerminalPane } from './TerminalPane.js'
import { ago, leaseText } from './words.js'

/** An instance that reports activity and has not for this long shows as idle. */
export const IDLE_AFTER_MS = 5 * 60_000
/** How often this page tells others it is active while someone uses it. */
const ACTIVE_EVERY_MS = 30_000
const MAX_TERMINALS = 6
const MAX_ACTIVITY = 60

export class WorkspaceView {
  private readonly projects = h('div', { class: 'list', data: { panel: 'projects' } })
  private readonly people = h('ul', { class: 'list', data: { panel: 'people' } })
  private readonly agents = h('div', { class: 'list', data: { panel: 'agents' } })
  private readonly activity = h('ol', { class: 'list feed', data: { panel: 'activity' } })
  private readonly terminals = h('div', { class: 'terminals', data: { panel: 'terminals' } })
  private readonly who = h('span', { class: 'who', data: { role: 'me' } })
  private readonly status = h('span', { class: 'status', data: { role: 'status' } })
  private readonly panes = new Map<string, TerminalPane>()
  /** Agents the person closed; not reopened automatically. */
  private readonly hidden = new Set<string>()
  private scheduled: ReturnType<typeof setTimeout> | null = null
  private readonly tick: ReturnType<typeof setInterval>
  private lastActive = 0
  private readonly cleanups: Array<() => void> = []

  constructor(
    root: HTMLElement,
    private readonly banner: HTMLElement,
    private readonly session: BrowserSession,
    private readonly onLeave: () => void
  ) {
    const leave = h('button', { class: 'leave', data: { action: 'leave' }, title: 'Forget this browser\'s membership', on: { click: () => this.onLeave() } }, 'Leave')
    replace(
      root,
      h('header', { class: 'top' }, h('strong', null, 'Orchard'), this.who, this.status, leave),
      h(
        'main',
        { class: 'grid' },
        h('aside', { class: 'side' }, h('h2', null, 'Projects'), this.projects, h('h2', null, 'People'), this.people),
        h('section', { class: 'center' }, h('h2', null, 'Agents'), this.agents, this.terminals),
        h('aside', { class: 'side' }, h('h2', null, 'Activity'), this.activity)
      )
    )
    const render = () => this.schedule()
    session.model.on('change', render)
    session.on('control', render)
    session.on('role', render)
    session.presence.on('change', render)
    session.on('status', () => this.renderStatus())
    session.on('stopped', () => this.renderStatus())
    session.on('lease-lost', (lost) => {
      this.panes.get(lost.agentId)?.say(`You no longer hold this terminal (${lost.reason}${lost.by ? ` by ${lost.by}` : ''}).`)
      this.schedule()
    })
    // Idle labels age without any event; this keeps them true.
    this.tick = setInterval(render, 15_000)
    const active = () => this.markActive()
    for (const type of ['pointerdown', 'keydown'] as const) {
      window.addEventListener(type, active)
      this.cleanups.push(() => window.removeEventListener(type, active))
    }
    this.markActive()
    this.renderStatus()
    this.render()
  }

  dispose(): void {
    clearInterval(this.tick)
    if (this.scheduled) clearTimeout(this.scheduled)
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    for (const pane of this.panes.values()) pane.dispose()
    this.panes.clear()
  }

  private markActive(): void {
    const now = Date.now()
    if (now - this.lastActive < ACTIVE_EVERY_MS) return
    this.lastActive = now
    this.session.presence.set({ activeAt: now, client: 'observer' })
  }

  /** Many changes in one turn (a sync, a burst of output events) make one render. */
  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = setTimeout(() => {
      this.scheduled = null
      this.render()
    }, 0)
  }

  /** OBSERVER-7: a banner while the relay is out of reach; it goes when the page resumes. */
  private renderStatus(): void {
    const status = this.session.status
    replace(this.status, status === 'connected' ? 'live' : status === 'stopped' ? 'stopped' : 'offline')
    this.status.dataset.state = status
    if (status === 'connected') {
      this.banner.hidden = true
      replace(this.banner)
      return
    }
    const stop = this.session.stopReason
    if (status === 'stopped' && stop) {
      replace(this.banner, `Disconnected for good: ${stop.message} `, h('button', { data: { action: 'forget' }, on: { click: () => this.onLeave() } }, 'Forget this browser'))
    } else {
      replace(this.banner, 'Offline: cannot reach the relay. Reconnecting… The page resumes where it was when the relay is back.')
    }
    this.banner.dataset.state = status
    this.banner.hidden = false
  }

  private render(): void {
    const now = Date.now()
    const session = this.session
    const instances = session.instances()
    replace(this.who, `${session.memberName || 'you'} (${session.role})`)
    const projects = session.model.listProjects()
    const names = new Map(projects.map((project) => [project.id, project.name]))
    replace(this.projects, ...(projects.length ? projects.map((project) => this.projectCard(project, instances)) : ['No projects yet.']))
    replace(this.people, ...this.peopleRows(instances, session.presence.list(), now))
    const agents = session.agents()
    replace(this.agents, ...(agents.length ? this.agentRows(agents, names, instances) : ['No agents running.']))
    const agentNames = new Map(agents.map((entry) => [entry.id, entry.name]))
    replace(this.activity, ...session.activity().slice(-MAX_ACTIVITY).reverse().map((entry) => this.activityRow(entry, names, agentNames, now)))
    this.syncPanes(agents, names, instances)
  }

  private projectCard(project: SharedProject, instances: Map<string, ControlInstance>): HTMLElement {
    const host = project.host
    const hostText = host ? `${instances.get(host.instanceId)?.label || host.label || host.instanceId}${instances.has(host.instanceId) ? '' : ' (offline)'}` : 'no host assigned'
    const channels = project.channels.map((channel) => {
      const people = project.channelPeople[channel] ?? []
      return h('li', null, h('span', { class: 'channel' }, `#${channel}`), people.length ? ` ${people.join(', ')}` : '')
    })
    return h(
      'article',
      { class: 'card', data: { projectId: project.id } },
      h('h3', { data: { role: 'project-name' } }, project.name),
      h('div', { class: 'muted' }, 'roots'),
      h('ul', null, ...project.roots.map((root) => h('li', null, root.name, h('span', { class: 'muted' }, ` ${root.path}`)))),
      h('div', { class: 'muted' }, 'channels'),
      h('ul', null, ...channels),
      project.integrations.length ? h('div', { class: 'muted' }, 'integrations') : null,
      project.integrations.length ? h('ul', null, ...project.integrations.map((integration) => h('li', null, `${integration.name} (${integration.type})`))) : null,
      h('div', { class: 'host' }, 'host: ', hostText)
    )
  }

  /** OBSERVER-3: connected instances as the relay records them, with what presence adds. */
  private peopleRows(instances: Map<string, ControlInstance>, presence: PresenceEntry[], now: number): Child[] {
    const byInstance = new Map(presence.map((entry) => [entry.instanceId, entry]))
    const rows = [...instances.entries()].sort(([, a], [, b]) => a.name.localeCompare(b.name) || a.label.localeCompare(b.label))
    return rows.map(([instanceId, instance]) => {
      const state = byInstance.get(instanceId)?.state ?? {}
      const activeAt = typeof state.activeAt === 'number' ? state.activeAt : null
      const idle = activeAt !== null && now - activeAt > IDLE_AFTER_MS
      const self = instanceId === this.session.instanceId
      return h(
        'li',
        { class: idle ? 'idle' : '', data: { instanceId } },
        h('strong', null, instance.name),
        ` ${instance.role} · ${instance.label || instanceId}`,
        self ? ' (this page)' : '',
        idle ? h('span', { class: 'badge' }, ` idle ${ago(activeAt, now)}`) : ''
      )
    })
  }

  private agentRows(agents: AgentRecord[], names: Map<string, string>, instances: Map<string, ControlInstance>): Child[] {
    const byProject = new Map<string, AgentRecord[]>()
    for (const agent of agents) byProject.set(agent.projectId, [...(byProject.get(agent.projectId) ?? []), agent])
    return [...byProject.entries()].map(([projectId, list]) =>
      h(
        'div',
        { class: 'agent-group' },
        h('h3', null, names.get(projectId) ?? projectId),
        h(
          'ul',
          null,
          ...list.map((agent) =>
            h(
              'li',
              { data: { agentId: agent.id, status: agent.status } },
              h('strong', null, agent.name),
              ` ${agent.status} · `,
              h('span', { data: { role: 'lease' } }, leaseText(this.session.leaseOf(agent.id), instances)),
              this.panes.has(agent.id) || agent.status === 'stopped' || agent.status === 'failed'
                ? ''
                : h('button', { data: { action: 'watch' }, on: { click: () => this.watch(agent.id) } }, 'Watch')
            )
          )
        )
      )
    )
  }

  private watch(agentId: string): void {
    this.hidden.delete(agentId)
    this.schedule()
  }

  private activityRow(entry: ActivityEntry, names: Map<string, string>, agentNames: Map<string, string>, now: number): HTMLElement {
    const actor = entry.actor?.name ?? (typeof entry.memberName === 'string' ? entry.memberName : 'relay')
    const agent = typeof entry.agentName === 'string' ? entry.agentName : typeof entry.agentId === 'string' ? agentNames.get(entry.agentId) ?? entry.agentId : ''
    const project = typeof entry.projectId === 'string' ? names.get(entry.projectId) ?? '' : ''
    const projects = Array.isArray(entry.projectNames) ? entry.projectNames.filter((name): name is string => typeof name === 'string').join(', ') : ''
    const detail = [agent, project || projects].filter(Boolean).join(' in ')
    return h('li', { data: { type: entry.type } }, h('span', { class: 'muted' }, ago(entry.at, now)), ' ', h('strong', null, actor), ` ${entry.type.replace(/-/g, ' ')}`, detail ? ` ${detail}` : '')
  }

  /** Running agents get a pane (up to MAX_TERMINALS); panes of stopped agents stay until closed. */
  private syncPanes(agents: AgentRecord[], names: Map<string, string>, instances: Map<string, ControlInstance>): void {
    for (const agent of agents) {
      if (this.panes.has(agent.id) || this.hidden.has(agent.id) || this.panes.size >= MAX_TERMINALS) continue
      if (agent.status !== 'running' && agent.status !== 'spawning') continue
      const pane = new TerminalPane(this.session, agent)
      this.panes.set(agent.id, pane)
      this.terminals.appendChild(pane.element)
    }
    const byId = new Map(agents.map((agent) => [agent.id, agent]))
    for (const [agentId, pane] of this.panes) {
      const agent = byId.get(agentId) ?? pane.agent
      const lease = this.session.leaseOf(agentId)
      const mine = this.session.leases.get(agentId) !== undefined
      pane.setTyping(mine)
      pane.followSize(agent)
      replace(pane.header, h('strong', null, `${names.get(agent.projectId) ?? agent.projectId} / ${agent.name}`), ` ${agent.status} · `, h('span', { data: { role: 'lease' } }, leaseText(lease, instances)))
      replace(pane.controls, ...this.paneButtons(agent, mine))
    }
  }

  /** OBSERVER-6: editors and owners may claim and type; viewers only watch. */
  private paneButtons(agent: AgentRecord, mine: boolean): Child[] {
    const close = h('button', { data: { action: 'close' }, on: { click: () => this.close(agent.id) } }, 'Close')
    const role = this.session.role
    if (role === 'viewer') return [h('span', { class: 'muted' }, 'view only'), close]
    if (agent.status !== 'running') return [close]
    if (mine) return [h('button', { data: { action: 'release' }, on: { click: () => void this.act(agent.id, () => this.session.release(agent.id)) } }, 'Release'), close]
    const held = this.session.leaseOf(agent.id)
    const takeover = held !== undefined && role === 'owner'
    return [
      h('button', { data: { action: 'claim' }, on: { click: () => void this.act(agent.id, () => this.session.claim(agent.id, { takeover })) } }, takeover ? 'Take over' : 'Claim to type'),
      close
    ]
  }

  private async act(agentId: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action()
    } catch (error) {
      this.panes.get(agentId)?.say((error as Error).message)
    }
    this.schedule()
  }

  private close(agentId: string): void {
    this.hidden.add(agentId)
    this.panes.get(agentId)?.dispose()
    this.panes.delete(agentId)
    this.schedule()
  }
}
