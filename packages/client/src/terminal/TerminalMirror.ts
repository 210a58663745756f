/**
 * The host's copy of an agent's screen (TERM-4), kept by @xterm/headless so a viewer who
 * missed bytes can start from a snapshot instead of the whole history. A snapshot is
 * taken at an exact byte offset: xterm parses asynchronously, so it waits until every
 * byte written so far has been processed.
 */
import serializeModule from '@xterm/addon-serialize'
import headlessModule from '@xterm/headless'
import type { Terminal as HeadlessTerminal } from '@xterm/headless'

// Both ship as webpack-built CommonJS, whose named exports Node's ESM loader cannot see.
const { Terminal } = headlessModule
const { SerializeAddon } = serializeModule

export interface ScreenSnapshot {
  /** The byte offset (in the mirror's generation) the snapshot is valid at. */
  offset: number
  cols: number
  rows: number
  /** The screen as terminal escape text (SerializeAddon output). */
  data: string
}

export class TerminalMirror {
  private readonly terminal: HeadlessTerminal
  private readonly serializer = new SerializeAddon()
  private written = 0

  constructor(cols = 80, rows = 24, scrollback = 1000) {
    this.terminal = new Terminal({ cols, rows, scrollback, allowProposedApi: true })
    this.terminal.loadAddon(this.serializer)
  }

  write(data: Uint8Array): void {
    this.written += data.byteLength
    this.terminal.write(data)
  }

  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows)
  }

  /**
   * An empty write queued behind everything written so far: its callback runs once those
   * bytes are parsed and before anything written later is, so the screen is exactly the
   * state at `offset`.
   */
  snapshot(): Promise<ScreenSnapshot> {
    const offset = this.written
    return new Promise((resolve) => {
      this.terminal.write('', () => resolve({ offset, cols: this.terminal.cols, rows: this.terminal.rows, data: this.serializer.serialize() }))
    })
  }

  dispose(): void {
    this.terminal.dispose()
  }
}
