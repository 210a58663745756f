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
