/**
 * `orchard relay`'s limit flags (CLI-11): the relay limits an operator tunes (LIMIT-1,
 * LIMIT-7, TERM-9 in the relay's SPEC), each parsed and range-checked by commander before
 * the command runs, so a bad value never creates a data file. Only flags the user gives are
 * passed on: the relay's own defaults (DEFAULT_LIMITS) apply otherwise, and the help text
 * quotes them (a test keeps the quotes equal to DEFAULT_LIMITS).
 *
 * No value of @orchard/relay is imported here: main.ts loads this module for every command,
 * and the relay (with SQLite) is loaded only when `orchard relay` runs.
 */
import { Option, type Command } from 'commander'
import type { RelayLimits } from '@orchard/relay'
import { CliError } from '../errors.js'
import { formatSize, parseSizeIn, parseWholeNumberIn } from '../options.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const GROUP = 'Limits (sizes: 512KiB, 16MiB, 1GiB; K, M and G are 1024-based):'

/** DEFAULT_LIMITS as the help text states them (checked against the relay's by a test). */
export const QUOTED_DEFAULTS = {
  maxFrameBytes: 16 * MiB,
  terminalRingBytes: 32 * MiB,
  terminalRingBudgetBytes: 256 * MiB,
  viewerHighWaterBytes: 1 * MiB,
  addressConnectBurst: 2_000,
  addressConnectsPerSecond: 100
} as const satisfies Partial<RelayLimits>

/** What commander hands the action for these flags (each absent unless given). */
export interface RelayLimitFlags {
  maxFrame?: number
  terminalRing?: number
  terminalBudget?: number
  connectsPerAddress?: number
}

export function addRelayLimitOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--max-frame <size>',
        `largest frame a client may send (one update, sync or keystroke batch); a bigger one is refused with close 4413 (default ${formatSize(QUOTED_DEFAULTS.maxFrameBytes)})`
      )
        // Below 1 MiB a host's terminal output frame (up to 256 KiB a turn) or a client's
        // first sync of a modest workspace may not fit, and the client would be closed for it.
        .argParser(parseSizeIn('--max-frame', 1 * MiB, 1 * GiB))
        .helpGroup(GROUP)
    )
    .addOption(
      new Option(
        '--terminal-ring <size>',
        `output kept per terminal for viewers to catch up from; a viewer further behind gets a gap and a screen snapshot (default ${formatSize(QUOTED_DEFAULTS.terminalRingBytes)})`
      )
        // The ring must hold at least one viewer window (TERM-9), or every brief stall is a gap.
        .argParser(parseSizeIn('--terminal-ring', QUOTED_DEFAULTS.viewerHighWaterBytes, 4 * GiB))
        .helpGroup(GROUP)
    )
    .addOption(
      new Option(
        '--terminal-budget <size>',
        `output kept across all terminals; over it the largest ring gives up its oldest output (default ${formatSize(QUOTED_DEFAULTS.terminalRingBudgetBytes)})`
      )
        .argParser(parseSizeIn('--terminal-budget', QUOTED_DEFAULTS.viewerHighWaterBytes, 64 * GiB))
        .helpGroup(GROUP)
    )
    .addOption(
      new Option(
        '--connects-per-address <n>',
        `new connections one IP address may open per minute: <n> at once, refilling at <n> a minute; more are answered HTTP 429 (default ${QUOTED_DEFAULTS.addressConnectBurst} at once, refilling at ${QUOTED_DEFAULTS.addressConnectsPerSecond * 60} a minute; raise it behind a proxy or NAT)`
      )
        .argParser(parseWholeNumberIn('--connects-per-address', 1, 1_000_000))
        .helpGroup(GROUP)
    )
}

/**
 * The relay limits the flags ask for, checked against each other and the relay's defaults.
 * Throws CliError (exit 2) for a combination no single flag's parser can see, before the
 * command touches any file.
 */
export function relayLimitsFromFlags(flags: RelayLimitFlags, defaults: RelayLimits): Partial<RelayLimits> {
  const limits: Partial<RelayLimits> = {}
  if (flags.maxFrame !== undefined) limits.maxFrameBytes = flags.maxFrame
  if (flags.terminalRing !== undefined) limits.terminalRingBytes = flags.terminalRing
  if (flags.terminalBudget !== undefined) limits.terminalRingBudgetBytes = flags.terminalBudget
  if (flags.connectsPerAddress !== undefined) {
    limits.addressConnectBurst = flags.connectsPerAddress
    limits.addressConnectsPerSecond = flags.connectsPerAddress / 60
  }
  const ring = limits.terminalRingBytes ?? defaults.terminalRingBytes
  const budget = limits.terminalRingBudgetBytes ?? defaults.terminalRingBudgetBytes
  if (budget < ring) {
    const ringText = `${flags.terminalRing !== undefined ? '--terminal-ring' : 'the default terminal ring'} (${formatSize(ring)})`
    const budgetText = `${flags.terminalBudget !== undefined ? '--terminal-budget' : 'the default terminal budget'} (${formatSize(budget)})`
    throw new CliError(`${budgetText} is smaller than ${ringText}: one terminal could never keep its ring. Give --terminal-budget at least ${formatSize(ring)}, or a smaller --terminal-ring.`, 2)
  }
  return limits
}
