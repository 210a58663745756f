/**
 * A BrokerHost that runs nothing: it records what it was asked and what was typed, and
 * can be told to be slow or to fail. Real PTYs are in examples/pty-host and the terminal
 * tests; coordination only needs to see who asked what.
 */
import type { BrokerHost, SpawnRequest, TerminalSink } from '@orchard/client'

export class FakeBroker implements BrokerHost {
  readonly spawned: SpawnRequest[] = []
  readonly stopped: string[] = []
  readonly written: Array<{ agentId: string; text: string }> = []
  readonly resized: Array<{ agentId: string; cols: number; rows: number }> = []
  delayMs = 0
  failWith: string | null = null
  private readonly running = new Set<string>()
  sink: TerminalSink | null = null

  attach(sink: TerminalSink): void {
    this.sink = sink
  }

  /** Publishes output as the agent's process would. */
  print(agentId: string, text: string | Uint8Array): void {
    this.sink?.output(agentId, typeof text === 'string' ? new TextEncoder().encode(text) : text)
  }

  async spawn(request: SpawnRequest): Promise<unknown> {
    this.spawned.push(request)
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs))
    if (this.failWith) throw new Error(this.failWith)
    this.running.add(request.agentId)
    return { pid: 1000 + this.spawned.length, cols: 80, rows: 24 }
  }

  async stop(agentId: string): Promise<void> {
    this.stopped.push(agentId)
    this.running.delete(agentId)
  }

  write(agentId: string, data: Uint8Array): void {
    this.written.push({ agentId, text: new TextDecoder().decode(data) })
  }

  resize(agentId: string, cols: number, rows: number): void {
    this.resized.push({ agentId, cols, rows })
  }

  isRunning(agentId: string): boolean {
    return this.running.has(agentId)
  }
}
