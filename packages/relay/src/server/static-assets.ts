/**
 * Serves a prebuilt web app (the observer) from the relay's HTTP port (STATIC-n). The files
 * are read once at start into memory (a few hundred KB), so a request can only ever get a
 * file that was in the folder: no path from the URL touches the disk. Every response
 * carries a strict Content-Security-Policy: scripts only from this origin, never inline.
 * The relay does not know what the app is; the CLI passes the folder (dependency direction:
 * nothing in the relay imports the observer).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, relative, sep } from 'node:path'
import { gzipSync } from 'node:zlib'

/**
 * STATIC-2: no inline script, no eval, nothing from other origins. Styles allow 'unsafe-inline'
 * because xterm.js themes its DOM renderer with a <style> element it creates; a style cannot
 * run code. The socket goes to this same origin ('self' covers ws: and wss: in CSP 3).
 */
export const OBSERVER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json'
}

interface Asset {
  body: Buffer
  /** Worth compressing (text, over 512 bytes); compressed on its first gzip request. */
  compressible: boolean
  gzip: Buffer | null
  type: string
  /** Vite's hashed file names never change content: cache them for a year. */
  immutable: boolean
}

/** At most this many files / bytes are loaded: a wrong folder (a home dir) fails fast, in words. */
const MAX_FILES = 500
const MAX_BYTES = 32 * 1024 * 1024

export class StaticAssets {
  private readonly assets = new Map<string, Asset>()

  /** Throws with what to do when `dir` is not a built app (no index.html). */
  constructor(readonly dir: string) {
    let total = 0
    for (const file of listFiles(dir)) {
      const body = readFileSync(file)
      total += body.byteLength
      if (this.assets.size >= MAX_FILES || total > MAX_BYTES) {
        throw new Error(`The static folder ${dir} holds more than ${MAX_FILES} files or ${MAX_BYTES >> 20} MB; point staticDir at the built observer (its dist/ folder).`)
      }
      const urlPath = '/' + relative(dir, file).split(sep).join('/')
      const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
      const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.byteLength > 512
      // Compressed when first asked for, not here: gzipping the observer's bundle took tens of
      // ms of the relay's start (issue 12: start to listening), for a page most relays never serve.
      this.assets.set(urlPath, { body, compressible, gzip: null, type, immutable: urlPath.startsWith('/assets/') })
    }
    if (!this.assets.has('/index.html')) {
      throw new Error(`No index.html in ${dir}. Build the observer first (npx -y pnpm@10.34.8 --filter @orchard/observer build) or pass its dist/ folder.`)
    }
  }

  /** Answers GET/HEAD for a known file (and "/" with index.html); false if it is not ours. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const pathname = new URL(req.url ?? '/', 'http://relay').pathname
    const asset = this.assets.get(pathname === '/' ? '/index.html' : pathname)
    if (!asset) return false
    const gzip = asset.compressible && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? (asset.gzip ??= gzipSync(asset.body)) : null
    const body = gzip ?? asset.body
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': body.byteLength,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-security-policy': OBSERVER_CSP,
      'x-content-type-options': 'nosniff',
      // The invite is in the fragment, which is never sent; no Referer leaks the page either.
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {})
    })
    res.end(req.method === 'HEAD' ? undefined : body)
    return true
  }

  get files(): string[] {
    return [...this.assets.keys()].sort()
  }
}

function listFiles(dir: string): string[] {
  let stat
  try {
    stat = statSync(dir)
  } catch {
    throw new Error(`The static folder ${dir} does not exist. Build the observer first (npx -y pnpm@10.34.8 --filter @orchard/observer build).`)
  }
  if (!stat.isDirectory()) throw new Error(`${dir} is not a folder; pass the built observer's dist/ folder.`)
  const out: string[] = []
  const walk = (folder: string, depth: number) => {
    if (depth > 8) return
    for (const name of readdirSync(folder).sort()) {
      if (name.startsWith('.')) continue
      const path = join(folder, name)
      const entry = statSync(path)
      if (entry.isDirectory()) walk(path, depth + 1)
      else if (entry.isFile()) out.push(path)
      if (out.length > MAX_FILES) return
    }
  }
  walk(dir, 0)
  return out
}
