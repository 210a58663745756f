/**
 * A RelayCast world for tests: the fake engine on a loopback port, a host instance running
 * the relay core with RelayCast as its sockets, and other instances on the RelayCast
 * transport, all through the real @relaycast/sdk.
 */
import { WorkspaceSession } from '@orchard/client'
import { MemoryStorage, RelayCore } from '@orchard/relay'
import { WebSocket } from 'ws'
import { RelayCastHost, RelayCastLink, relayCastTransport, type RelayCastLinkOptions, type RelayCastTransportFactory, type RelayCastTransportOptions } from '../src/index.js'
import { FakeRelayCast, type FakeKnobs } from './fake/FakeRelayCast.js'

// Node 20 has no global WebSocket; the SDK needs one (Node 22 has it built in).
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

export const HOST_AGENT = 'orc-host'
export const CHANNEL = 'orc-ws1'

export interface Instance {
  name: string
  link: RelayCastLink
  transport: RelayCastTransportFactory
  session: WorkspaceSession
  /** 'host' or 'peer' for the current connection. */
  mode(): string | undefined
}

export interface WorldOptions {
  knobs?: Partial<FakeKnobs>
  random?: () => number
  link?: Partial<RelayCastLinkOptions>
  transport?: Partial<RelayCastTransportOptions>
}

export class RelayCastWorld {
  fake!: FakeRelayCast
  apiKey = ''
  storage = new MemoryStorage()
  core!: RelayCore
  host!: RelayCastHost
  hostSession!: WorkspaceSession
  workspaceId = ''
  ownerCredential = ''
  readonly instances: Instance[] = []
  private readonly links: RelayCastLink[] = []

  constructor(readonly options: WorldOptions = {}) {}

  static async start(options: WorldOptions = {}): Promise<RelayCastWorld> {
    const world = new RelayCastWorld(options)
    world.fake = await new FakeRelayCast(options.knobs, options.random).listen()
    world.apiKey = world.fake.createWorkspace()
    world.core = world.openCore()
    const created = await world.core.createWorkspace('RelayCast', 'Ana')
    world.workspaceId = created.workspace.id
    world.ownerCredential = created.credential
    await world.startHost()
    return world
  }

  linkOptions(agentName: string): RelayCastLinkOptions {
    return {
      baseUrl: this.fake.url,
      apiKey: this.apiKey,
      agentName,
      channel: CHANNEL,
      gapTimeoutMs: 300,
      burst: 20,
      share: 1,
      reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
      backoff: { initialMs: 50, maxMs: 400 },
      http: { retries: 3, backoffMs: 20 },
      ...this.options.link
    }
  }

  openCore(): RelayCore {
    return new RelayCore({
      // Restarts share the storage object, as a restarted host reopens its database file.
      storage: Object.assign(Object.create(this.storage) as MemoryStorage, { close: async () => undefined }),
      publicUrl: `relaycast://${HOST_AGENT}`,
      limits: { awarenessIntervalMs: 0, unloadAfterMs: 60_000 },
      logger: { info: () => {}, error: (m) => (process.env.ORCHARD_DEBUG ? console.error(m) : undefined) }
    })
  }

  async startHost(): Promise<void> {
    const link = new RelayCastLink(this.linkOptions(HOST_AGENT))
    this.links.push(link)
    this.host = new RelayCastHost({ core: this.core, link, keepaliveMs: 60_000 })
    await this.host.start()
    this.hostSession = await WorkspaceSession.open({
      credential: this.ownerCredential,
      relayUrl: `relaycast://${HOST_AGENT}`,
      transport: this.host.localTransport(),
      instanceId: 'host',
      label: 'host'
    })
  }

  /** The host instance stops (its relay core and its RelayCast agent) and starts again on the same storage. */
  async restartHost(options: { crash?: boolean } = {}): Promise<void> {
    await (options.crash ? this.crashHost() : this.stopHost())
    this.core = this.openCore()
    await this.startHost()
  }

  /** The host process dies: its link goes first, so the others are told nothing. */
  async crashHost(): Promise<void> {
    await this.host.link.close()
    await this.hostSession.close()
    await this.core.close()
    await this.host.close()
  }

  /** In this order: the core's 1012 closes reach the others before the link goes. */
  async stopHost(): Promise<void> {
    await this.hostSession.close()
    await this.core.close()
    await this.host.close()
    await this.host.link.flushed()
    await this.host.link.close()
  }

  async member(role: 'owner' | 'editor' | 'viewer', name: string): Promise<string> {
    return (await this.core.auth.addMember(this.workspaceId, name, role)).credential
  }

  /** A link and transport factory for an instance that is not open yet (to join with an invite). */
  remote(name: string): { link: RelayCastLink; transport: RelayCastTransportFactory } {
    const link = new RelayCastLink(this.linkOptions(`orc-${name}`))
    this.links.push(link)
    return { link, transport: relayCastTransport({ link, host: HOST_AGENT, openTimeoutMs: 1_500, ...this.options.transport }) }
  }

  track(name: string, link: RelayCastLink, transport: RelayCastTransportFactory, session: WorkspaceSession): Instance {
    const instance = { name, link, transport, session, mode: () => transport.current?.mode }
    this.instances.push(instance)
    return instance
  }

  async instance(name: string, credential: string, options: { waitForRelay?: boolean } = {}): Promise<Instance> {
    const { link, transport } = this.remote(name)
    const session = await WorkspaceSession.open({
      credential,
      relayUrl: `relaycast://${HOST_AGENT}`,
      transport,
      instanceId: name,
      label: name,
      waitForRelay: options.waitForRelay ?? true,
      connectTimeoutMs: 10_000
    })
    return this.track(name, link, transport, session)
  }

  async close(): Promise<void> {
    for (const instance of this.instances.splice(0)) await instance.session.close()
    await this.hostSession.close().catch(() => undefined)
    await this.host.close()
    await this.core.close().catch(() => undefined)
    for (const link of this.links.splice(0)) await link.close()
    await this.fake.close()
  }
}
