/**
 * For Node (the CLI): where the built observer is, to pass to the relay as `staticDir`.
 * The page itself is built ahead of time (`vite build`) and shipped in dist/.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const observerDistDir: string = fileURLToPath(new URL('../dist', import.meta.url))

/** True once `vite build` has produced the page. */
export function observerIsBuilt(): boolean {
  return existsSync(fileURLToPath(new URL('../dist/index.html', import.meta.url)))
}

export { inviteFromFragment, observerLink } from './invite-link.js'
