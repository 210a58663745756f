/**
 * A BrokerHost that runs agents as real processes in pseudo-terminals (node-pty): what
 * examples/pty-host uses, and a starting point for apps without a broker of their own.
 * Spawn options come from the spawn request (`{ command, args, cwd, env, cols, rows }`),
 * defaulting to an interactive shell.
 */
import ptyModule from 'node-pty'
import type { IPty } from 'node-pty'
import type { BrokerHost, SpawnRequest, TerminalSink } from '../BrokerHost.js'

// node-pty is CommonJS; its named exports are not visible to Node's ESM loader.
const { spawn } = ptyModule

export interface PtySpawnOptions {
  command?: string
  args?: string[]
  cwd?: string
  env?: Record<string, string>
  cols?: number
  rows?: number
}

export class NodePtyBroker implements BrokerHost {
  private sink: TerminalSink | null = null
  private readonly ptys = new Map<string, IPty>()
  private readonly encoder = new TextEncoder()

  constructor(private readonly defaults: PtySpawnOptions = {}) {}

  attach(sink: TerminalSink): void {
    this.sink = sink
  }

  async spawn(request: SpawnRequest): Promise<unknown> {
    const options = { ...this.defaults, ...(isOptions(request.options) ? request.options : {}) }
    const command = options.command ?? process.env.SHELL ?? 'bash'
    const cols = options.cols ?? 80
    const rows = options.rows ?? 24
    let pty: IPty
    try {
      pty = spawn(command, options.args ?? [], {
        name: 'xterm-256color',
        cols,
        rows,
        cwd: options.cwd ?? process.cwd(),
        env: { ...(process.env as Record<string, string>), ...options.env }
      })
    } catch (error) {
      throw new Error(`could not start ${command}: ${(error as Error).message}`)
    }
    this.ptys.set(request.agentId, pty)
    this.sink?.restarted(request.agentId)
    this.sink?.resized(request.agentId, cols, rows)
    pty.onData((text) => this.sink?.output(request.agentId, this.encoder.encode(text)))
    pty.onExit(({ exitCode, signal }) => {
      if (this.ptys.get(request.agentId) !== pty) return
      this.ptys.delete(request.agentId)
      this.sink?.exited(request.agentId, exitCode, signal ?? null)
    })
    return { pid: pty.pid, cols, rows, command }
  }

  async stop(agentId: string): Promise<void> {
    const pty = this.ptys.get(agentId)
    if (!pty) return
    this.ptys.delete(agentId)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        try {
          pty.kill('SIGKILL')
        } catch {
          /* already gone */
        }
        resolve()
      }, 2_000)
      pty.onExit(() => {
        clearTimeout(timer)
        resolve()
      })
      try {
        pty.kill()
      } catch {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  write(agentId: string, data: Uint8Array): void {
    this.ptys.get(agentId)?.write(Buffer.from(data))
  }

  resize(agentId: string, cols: number, rows: number): void {
    const pty = this.ptys.get(agentId)
    if (!pty) return
    pty.resize(cols, rows)
    this.sink?.resized(agentId, cols, rows)
  }

  /** Stops every agent (for shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.ptys.keys()].map((agentId) => this.stop(agentId)))
  }
}

function isOptions(value: unknown): value is PtySpawnOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
