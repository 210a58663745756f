/**
 * `<data>.owner.json`: the owner's credential and the admin token, written once, when the
 * relay creates its workspace, readable only by you. It is never overwritten: a second
 * relay start, a damaged data file or a changed port must not replace the only copy of the
 * owner's credential (issue 9: an overwritten owner.json locked the owner out).
 * The relay's current URL, which changes with --port, lives in `<data>.url` instead.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { CliError } from './errors.js'

export interface OwnerFile {
  workspaceId: string
  relayUrl: string
  ownerCredential: string
  adminToken: string
}

export function ownerFilePath(dataPath: string): string {
  return `${dataPath}.owner.json`
}

export function urlFilePath(dataPath: string): string {
  return `${dataPath}.url`
}

/** Undefined when there is none; a clear CliError (no stack trace) when it cannot be read. */
export function readOwnerFile(dataPath: string): OwnerFile | undefined {
  const path = ownerFilePath(dataPath)
  if (!existsSync(path)) return undefined
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    // Unreadable is not damaged: say which, so nobody moves a good credential aside.
    throw new CliError(`${path} cannot be read (${(error as Error).message}). Run the relay as the user who owns it, or pass --token <owner credential>.`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new CliError(
      `${path} is not valid JSON (${(error as Error).message}). It holds the owner's credential, so Orchard will not replace it: ` +
        'restore it from a backup, or move it aside and pass --token <owner credential>.'
    )
  }
  const record = value as Partial<Record<keyof OwnerFile, unknown>> | null
  const fields: Array<keyof OwnerFile> = ['workspaceId', 'relayUrl', 'ownerCredential', 'adminToken']
  const missing = fields.filter((field) => typeof record?.[field] !== 'string')
  if (missing.length > 0) {
    throw new CliError(`${path} is missing ${missing.join(', ')}. Restore it from a backup, or move it aside and pass --token <owner credential>.`)
  }
  return record as OwnerFile
}

/** Creates owner.json (mode 0600); refuses if one appeared meanwhile instead of overwriting it. */
export function createOwnerFile(dataPath: string, owner: OwnerFile): void {
  const path = ownerFilePath(dataPath)
  try {
    writeFileSync(path, JSON.stringify(owner, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${path} already exists; Orchard never overwrites it. Move it aside to start a new workspace.`)
    throw error
  }
  chmodSync(path, 0o600)
}

/** The running relay's URL, rewritten at every start (it holds no secret). */
export function writeRelayUrl(dataPath: string, url: string): void {
  writeFileSync(urlFilePath(dataPath), url + '\n')
}

export function readRelayUrl(dataPath: string): string | undefined {
  const path = urlFilePath(dataPath)
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined
}
