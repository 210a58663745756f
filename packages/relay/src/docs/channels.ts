/**
 * A workspace's two documents and how they are keyed in storage. Kept in the docs layer so
 * the connections, the room and the core all name them without importing one another.
 */
export const WORKSPACE_CHANNEL = 'workspace'
export const CONTROL_CHANNEL = 'control'

/** The storage key of one of a workspace's documents. */
export function docId(workspaceId: string, channel: string): string {
  return `${workspaceId}/${channel}`
}
