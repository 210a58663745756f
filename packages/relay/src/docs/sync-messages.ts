// The sync codec lives in @orchard/protocol (every codec does); this re-export keeps the
// relay's own imports unchanged.
export { SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, decodeSyncMessage, encodeSyncMessage, type SyncMessage } from '@orchard/protocol'
