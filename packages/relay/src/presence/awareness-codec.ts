// The awareness codec lives in @orchard/protocol (every codec does); this re-export keeps
// the relay's own imports unchanged.
export { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from '@orchard/protocol'
