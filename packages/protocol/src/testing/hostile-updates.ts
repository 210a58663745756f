/**
 * Hand-built Yjs updates that honest clients never send, for the tests on both sides of the
 * wire that must refuse them (the relay's VALID-1, the client's VALID-5).
 */
import * as encoding from 'lib0/encoding'

/**
 * A well-formed Yjs V1 update whose only struct is a text embed holding JSON nested `depth`
 * deep, verbatim: JSON.parse reads any depth, but writing it back (every merge, diff, save)
 * overflows the stack when it is deep enough. This is the update that bricked a workspace
 * (issue 9, 3).
 */
export function deepEmbedUpdate(depth: number, client = 4242): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1) // one client
  encoding.writeVarUint(encoder, 1) // one struct
  encoding.writeVarUint(encoder, client)
  encoding.writeVarUint(encoder, 0) // clock
  encoding.writeUint8(encoder, 5) // Item, content ref 5 (embed), no origins: parent follows
  encoding.writeVarUint(encoder, 1) // parent is a root type named by a string
  encoding.writeVarString(encoder, 'poison')
  encoding.writeVarString(encoder, '['.repeat(depth) + ']'.repeat(depth))
  encoding.writeVarUint(encoder, 0) // empty delete set
  return encoding.toUint8Array(encoder)
}
