/**
 * ws's WebSocket, told apart in one place: when ws's receiver meets a frame over
 * `maxPayload` it closes with 1009 before any of our code sees the frame, and clients treat
 * 1009 (or the bare 1006 that follows a terminate) as a reason to retry the same frame
 * forever. Here that close becomes the relay's own answer: `onTooLarge` (an ERROR frame
 * saying why) and close 4413, which clients do not retry (LIMIT-1).
 */
import WebSocket from 'ws'

const MESSAGE_TOO_BIG = 1009

export class RelayWebSocket extends WebSocket {
  /** Called once, instead of ws's 1009 close, when a frame over maxPayload arrives. */
  onTooLarge: (() => void) | null = null

  override close(code?: number, data?: string | Buffer): void {
    if (code === MESSAGE_TOO_BIG && this.readyState === WebSocket.OPEN) {
      const handler = this.onTooLarge
      this.onTooLarge = null
      handler?.()
      // The handler normally closed already (4413 with its reason); if not, do it here.
      if (this.readyState === WebSocket.OPEN) super.close(4413, 'too-large')
      return
    }
    super.close(code, data)
  }
}
