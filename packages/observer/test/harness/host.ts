/**
 * The Node instance that hosts the agents: a real WorkspaceSession (owner) bound to a
 * broker that prints what the test tells it to and records what reached the "PTY".
 */
import { WorkspaceSession, type BrokerHost, type SpawnRequest, type TerminalSink } from '@orchard/client'

export class ScriptedBroker implements BrokerHost {
  readonly written: Array<{ agentId: string; text: string }> = []
  readonly resized: Array<{ agentId: string; cols: number; rows: number }> = []
  private sink: TerminalSink | null = null

  constructor(private readonly size = { cols: 80, rows: 24 }) {}

  attach(sink: TerminalSink): void {
    this.sink = sink
  }

  print(agentId: string, text: string | Uint8Array): void {
    this.sink?.output(agentId, typeof text === 'string' ? new TextEncoder().encode(text) : text)
  }

  /** The agent's PTY changed size (a holder resized it in Pear): the host reports it. */
  resizePty(agentId: string, cols: number, rows: number): void {
    this.sink?.resized(agentId, cols, rows)
  }

  async spawn(request: SpawnRequest): Promise<unknown> {
    // As NodePtyBroker does: a new generation at the PTY's size (the host's screen mirror follows).
    this.sink?.restarted(request.agentId)
    this.sink?.resized(request.agentId, this.size.cols, this.size.rows)
    return { pid: 4242, cols: this.size.cols, rows: this.size.rows, name: request.name }
  }

  async stop(): Promise<void> {}

  write(agentId: string, data: Uint8Array): void {
    this.written.push({ agentId, text: new TextDecoder().decode(data) })
  }

  resize(agentId: string, cols: number, rows: number): void {
    this.resized.push({ agentId, cols, rows })
  }
}

export async function startHost(url: string, credential: string, broker: ScriptedBroker): Promise<WorkspaceSession> {
  const host = await WorkspaceSession.open({ credential, relayUrl: url, instanceId: 'ana-laptop', label: 'laptop' })
  host.host(broker)
  return host
}
