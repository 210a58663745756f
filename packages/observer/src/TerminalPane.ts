/**
 * One agent's terminal in xterm.js (OBSERVER-5): it starts from what the relay has (the
 * ring, or the host's screen snapshot when the history is gone), then streams; a notice
 * says where this page was skipped ahead. The terminal keeps the agent's PTY size and
 * scales its font to fit the window, so resizing the window never resizes the agent.
 * Input is off unless this browser holds the agent's lease (OBSERVER-6).
 */
import { Terminal } from '@xterm/xterm'
import type { AgentRecord, BrowserSession, TerminalStream } from '@orchard/client/browser'
import { h, replace } from './dom.js'
import { bytes } from './words.js'

/** Monospace cells are about 0.6 em wide; the fit loop below corrects the guess. */
const CELL_WIDTH_EM = 0.6
const MIN_FONT = 6
const MAX_FONT = 15

export class TerminalPane {
  readonly element: HTMLElement
  readonly header: HTMLElement
  readonly controls: HTMLElement
  private readonly notice: HTMLElement
  private readonly screen: HTMLElement
  private readonly terminal: Terminal
  private readonly stream: TerminalStream
  private readonly resizeObserver: ResizeObserver
  private written = 0
  private skipped = 0
  private firstFrame = false
  private typing = false

  constructor(
    session: BrowserSession,
    readonly agent: AgentRecord
  ) {
    const size = ptySize(agent)
    this.header = h('div', { class: 'pane-title' })
    this.controls = h('div', { class: 'pane-controls' })
    this.notice = h('div', { class: 'notice', hidden: true, data: { role: 'gap-notice' } })
    this.screen = h('div', { class: 'screen' })
    this.element = h('section', { class: 'pane', data: { agentId: agent.id, bytesWritten: '0' } }, h('header', { class: 'pane-head' }, this.header, this.controls), this.notice, this.screen)
    this.terminal = new Terminal({
      cols: size.cols,
      rows: size.rows,
      disableStdin: true,
      scrollback: 1000,
      fontSize: 13,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      cursorBlink: false,
      allowProposedApi: false,
      theme: { background: '#111418', foreground: '#d8dee9' }
    })
    this.terminal.open(this.screen)
    // OBSERVER-6: keystrokes go out only while this browser holds the lease; xterm itself
    // sends nothing while disableStdin is set, and the relay refuses a viewer anyway.
    this.terminal.onData((data) => {
      if (!this.typing) return
      try {
        session.sendInput(agent.id, data)
      } catch (error) {
        this.say((error as Error).message)
      }
    })
    performance.mark('orchard:terminal-open')
    this.stream = session.terminal(agent.id)
    this.stream.on('data', (data) => this.write(data))
    this.stream.on('gap', (gap) => {
      const fresh = this.written === 0
      this.skipped += gap.to - gap.from
      this.terminal.reset()
      if (gap.cols > 0 && gap.rows > 0 && (gap.cols !== this.terminal.cols || gap.rows !== this.terminal.rows)) this.terminal.resize(gap.cols, gap.rows)
      this.write(gap.snapshot)
      this.say(
        fresh
          ? `Started from the host's screen: earlier output (${bytes(gap.to)}) is no longer kept.`
          : `Skipped ahead ${bytes(gap.to - gap.from)}: this page fell behind, so it shows the host's screen as of then, then live output.`
      )
      this.fit()
    })
    this.stream.on('generation', (generation) => {
      if (generation > 1) {
        this.terminal.reset()
        this.say('The agent restarted.')
      }
    })
    this.stream.on('error', (error) => this.say(error.message))
    this.resizeObserver = new ResizeObserver(() => this.fit())
    this.resizeObserver.observe(this.element)
    this.terminal.onRender(() => {
      if (this.firstFrame || this.written === 0) return
      this.firstFrame = true
      // The bench reads this: link opened -> first terminal frame painted.
      performance.mark('orchard:first-terminal-frame')
      this.element.dataset.firstFrame = '1'
    })
  }

  get cols(): number {
    return this.terminal.cols
  }

  get rows(): number {
    return this.terminal.rows
  }

  /** The host resized the agent's PTY (TERM-7): draw at its new size, the font still fitted to the window. */
  followSize(agent: AgentRecord): void {
    const size = declaredSize(agent)
    if (!size || (size.cols === this.terminal.cols && size.rows === this.terminal.rows)) return
    this.terminal.resize(size.cols, size.rows)
    this.fit()
  }

  /** Lets this browser type (it holds the lease) or stops it. */
  setTyping(typing: boolean): void {
    this.typing = typing
    this.terminal.options.disableStdin = !typing
    this.element.classList.toggle('typing', typing)
    if (typing) this.terminal.focus()
  }

  say(text: string): void {
    replace(this.notice, text)
    this.notice.hidden = false
  }

  dispose(): void {
    this.resizeObserver.disconnect()
    this.stream.close()
    this.terminal.dispose()
    this.element.remove()
  }

  private write(data: Uint8Array | string): void {
    if (this.written === 0) performance.mark('orchard:first-terminal-bytes')
    this.written += typeof data === 'string' ? data.length : data.byteLength
    const position = this.stream.position.offset
    this.terminal.write(data, () => {
      // What tests and the bench read: bytes drawn, where in the agent's output, bytes skipped.
      this.element.dataset.bytesWritten = String(this.written)
      this.element.dataset.position = String(position)
      this.element.dataset.skipped = String(this.skipped)
    })
  }

  /**
   * OBSERVER-5: fits the font to the pane's width, never the cols and rows (those are the
   * agent's PTY, which the host owns). Bounded: a few steps from a good first guess.
   */
  private fit(): void {
    const width = this.element.clientWidth - 16
    if (width <= 0) return
    let font = Math.max(MIN_FONT, Math.min(MAX_FONT, Math.floor(width / (this.terminal.cols * CELL_WIDTH_EM))))
    this.setFont(font)
    for (let step = 0; step < 8 && font > MIN_FONT; step++) {
      const drawn = this.screen.querySelector<HTMLElement>('.xterm-screen')?.offsetWidth ?? 0
      if (drawn <= width) break
      font -= 1
      this.setFont(font)
    }
  }

  private setFont(size: number): void {
    if (this.terminal.options.fontSize !== size) this.terminal.options.fontSize = size
    this.element.dataset.fontSize = String(size)
  }
}

function ptySize(agent: AgentRecord): { cols: number; rows: number } {
  return declaredSize(agent) ?? { cols: 80, rows: 24 }
}

/** The PTY size the host reported (at spawn, and on every resize: TERM-7), if it did. */
function declaredSize(agent: AgentRecord): { cols: number; rows: number } | null {
  const info = agent.info as { cols?: unknown; rows?: unknown } | undefined
  const valid = (value: unknown, max: number): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max
  return valid(info?.cols, 1000) && valid(info?.rows, 1000) ? { cols: info.cols, rows: info.rows } : null
}
