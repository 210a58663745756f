/**
 * Test helpers other packages reuse through `@orchard/workspace/testing`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreLogger } from '../PearStore.js'

/**
 * The store's file-system seam, for fault tests that stop or fail one step of a durable write
 * (a crash child wraps the real one and halts between temp write, fsync and rename).
 */
export { nodeDurableFs, type DurableFs, type DurableHandle } from '../file-io.js'

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix = 'orchard-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A logger that records instead of printing, so tests can assert what the user would see. */
export function recordingLogger(): StoreLogger & { lines: string[] } {
  const lines: string[] = []
  return { lines, warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) }
}
