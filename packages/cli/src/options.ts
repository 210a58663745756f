/**
 * Flag parsers for commander: each turns the text the user typed into a value or throws
 * InvalidArgumentError with what to type instead. Commander runs them before any command
 * does anything, so a bad flag never creates a data file or reaches a relay.
 */
import { resolve } from 'node:path'
import { InvalidArgumentError } from 'commander'

export function parsePort(text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(port) || port > 65_535) {
    throw new InvalidArgumentError('Use a port number from 0 to 65535 (0 picks a free port), e.g. --port 4455.')
  }
  return port
}

export function parsePositiveInt(text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError('Use a whole number of at least 1, e.g. --max-uses 5.')
  }
  return value
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** 30s, 15m, 12h, 7d -> ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim())
  if (!match || Number(match[1]) === 0) throw new InvalidArgumentError(`"${text}" is not a duration; use e.g. 30m, 12h or 7d.`)
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
}

export function parseDataPath(text: string): string {
  if (text.trim() === '') throw new InvalidArgumentError('Give a file path, e.g. --data ./orchard.db.')
  return resolve(text)
}

export function parseRelayUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new InvalidArgumentError('Use the relay\'s WebSocket URL, e.g. --relay ws://127.0.0.1:4455.')
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new InvalidArgumentError('The relay URL starts with ws:// or wss://, e.g. --relay ws://127.0.0.1:4455.')
  return text
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 }

/** 1048576 -> "1MiB", 1536 -> "1.5KiB": how sizes read in help and errors. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))}${unit}`
  }
  return `${bytes}B`
}

/** A size flag's parser: "16MiB", "512k", "1.5G" or plain bytes, within [min, max] bytes (units are 1024-based). */
export function parseSizeIn(flag: string, min: number, max: number): (text: string) => number {
  const hint = `Use a size from ${formatSize(min)} to ${formatSize(max)}, e.g. ${flag} ${formatSize(Math.min(max, Math.max(min, 16 * 1024 ** 2)))}.`
  return (text) => {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
    const unit = match ? SIZE_UNITS[(match[2] as string).toLowerCase()] : undefined
    if (!match || unit === undefined) throw new InvalidArgumentError(`"${text}" is not a size. ${hint}`)
    const bytes = Math.floor(Number(match[1]) * unit)
    if (bytes < min || bytes > max) throw new InvalidArgumentError(`${formatSize(bytes)} is out of range. ${hint}`)
    return bytes
  }
}

/** A count flag's parser: a whole number within [min, max]. */
export function parseWholeNumberIn(flag: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text)
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`Use a whole number from ${min} to ${max}, e.g. ${flag} ${Math.min(max, Math.max(min, 600))}.`)
    }
    return value
  }
}
