/**
 * The ceiling: xterm.js in the same browser writing the same bytes with no network and no
 * Orchard, with the observer's terminal options. `runCeiling` resolves with the ms from
 * the first write to the last write's callback (parsed into the buffer), as the page's
 * `data-position` is updated from the same callback.
 */
import '@xterm/xterm/css/xterm.css'
import { Terminal } from '@xterm/xterm'
import { chattyChunk } from '../chatty.js'

const terminal = new Terminal({ cols: 100, rows: 20, scrollback: 1000, fontSize: 13, disableStdin: true, cursorBlink: false })
terminal.open(document.getElementById('screen') as HTMLElement)

async function runCeiling(totalBytes: number, chunkBytes: number): Promise<number> {
  const encoder = new TextEncoder()
  const chunks: Uint8Array[] = []
  let line = 0
  let bytes = 0
  while (bytes < totalBytes) {
    const chunk = chattyChunk(line, chunkBytes)
    line = chunk.next
    const encoded = encoder.encode(chunk.text)
    chunks.push(encoded)
    bytes += encoded.byteLength
  }
  terminal.reset()
  const start = performance.now()
  for (const chunk of chunks) terminal.write(chunk)
  await new Promise<void>((resolve) => terminal.write('', resolve))
  return performance.now() - start
}

;(globalThis as unknown as { runCeiling: typeof runCeiling }).runCeiling = runCeiling
