/** Byte-level mutations of a valid frame, as fast-check arbitraries (shrinkable, seeded). */
import fc from 'fast-check'

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'append'; bytes: Uint8Array }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) })
)

export function applyMutation(input: Uint8Array, m: Mutation): Uint8Array {
  const bytes = Array.from(input)
  const at = bytes.length === 0 ? 0 : ('at' in m ? m.at % (bytes.length + 1) : 0)
  switch (m.op) {
    case 'flip':
      if (at < bytes.length) bytes[at] = (bytes[at] as number) ^ (1 << m.bit)
      break
    case 'set':
      if (at < bytes.length) bytes[at] = m.value
      break
    case 'truncate':
      bytes.length = Math.min(at, bytes.length)
      break
    case 'insert':
      bytes.splice(at, 0, ...m.bytes)
      break
    case 'delete':
      bytes.splice(at, m.count)
      break
    case 'append':
      bytes.push(...m.bytes)
      break
  }
  return Uint8Array.from(bytes)
}
