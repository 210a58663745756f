/**
 * Agent names and spawn coalescing keys as Pear makes them (Pear's
 * src/main/spawn-coordinator.ts), so an agent Pear would call `alice-3` is `alice-3` here
 * too, and two spawns Pear treats as one request coalesce here too. Pure: no relay state.
 */
import { canonicalJson } from '@orchard/workspace/browser'

/**
 * SPAWN-3: the requested name (trimmed) if free; otherwise the next free `<base>-<n>`.
 * A requested name that already ends in `-<n>` counts on from it (`alice-2` taken and
 * `alice-2` requested gives `alice-3`, not `alice-2-2`), as Pear's getAvailableAgentName.
 * Ends within `taken.size + 1` candidates: at most that many of them can be taken.
 */
export function availableAgentName(requested: string, taken: ReadonlySet<string>): string {
  const name = requested.trim()
  if (!taken.has(name)) return name
  const suffixed = /^(.*?)-(\d+)$/.exec(name)
  const base = suffixed ? (suffixed[1] as string) : name
  let index = suffixed ? Number(suffixed[2]) + 1 : 2
  for (let tries = 0; tries <= taken.size; tries++, index++) {
    const candidate = `${base}-${index}`
    if (!taken.has(candidate)) return candidate
  }
  // Unreachable: taken.size + 1 distinct candidates cannot all be taken.
  throw new Error(`No free agent name after ${taken.size + 1} tries for "${name}"`)
}

/** Spawn options fields Pear's spawnRequestKey defaults, with the value a missing one counts as. */
const PEAR_SPAWN_DEFAULTS: ReadonlyArray<readonly [string, unknown]> = [
  ['broker', 'auto'],
  ['cwd', ''],
  ['args', []],
  ['task', ''],
  ['model', ''],
  ['parentAgentName', '']
]

/**
 * SPAWN-1: spawn options as Pear's spawnRequestKey sees them: a missing (or empty)
 * `broker`, `cwd`, `args`, `task`, `model` or `parentAgentName` is the same request as
 * its default, so `{}` and `{ args: [] }` coalesce. Fields Pear does not name are kept.
 */
export function normalizeSpawnOptions(options: unknown): unknown {
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) return options
  const out: Record<string, unknown> = { ...(options as Record<string, unknown> | null | undefined) }
  // Pear uses `input.x || default`, so every falsy value (undefined, '', null) is the default.
  for (const [field, fallback] of PEAR_SPAWN_DEFAULTS) out[field] = out[field] || fallback
  return out
}

/** SPAWN-1: the key under which identical in-flight spawns (without an idempotency key) coalesce. */
export function spawnCoalesceKey(projectId: string, name: string, options: unknown, onExisting: string): string {
  return `spawn\u0000${projectId}\u0000${name}\u0000${canonicalJson(normalizeSpawnOptions(options))}\u0000${onExisting}`
}
