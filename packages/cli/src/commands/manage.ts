/**
 * Management commands (invite, invites, revoke, members, role, remove): they talk to the
 * running relay as its owner, so removals and role changes reach live sockets at once.
 * The owner credential comes from `<data>.owner.json`, or --relay and --token.
 */
// The provider alone: the client's main entry also loads the session, file store and terminal
// mirror, which a management command never uses (issue 12: `orchard invite` <= 500 ms).
import { RelayProvider, webSocketTransport } from '@orchard/client/provider'
import { CliError } from '../errors.js'
import { readOwnerFile, readRelayUrl } from '../owner-file.js'
import { formatTime, renderTable } from '../table.js'

export interface ConnectionOptions {
  data: string
  relay?: string
  token?: string
  json?: boolean
}

interface PublicMember {
  id: string
  name: string
  role: string
  createdAt: number
}

interface PublicInvite {
  id: string
  role: string
  createdAt: number
  expiresAt: number | null
  maxUses: number | null
  uses: number
  revoked: boolean
}

const ANSWER_TIMEOUT_MS = 10_000

/** Connects as the owner, runs `action`, prints its result, disconnects. */
export async function withOwner(options: ConnectionOptions, action: (provider: RelayProvider) => Promise<string | object>): Promise<number> {
  const saved = options.token && options.relay ? undefined : readOwnerFile(options.data)
  const relayUrl = options.relay ?? readRelayUrl(options.data) ?? saved?.relayUrl
  const credential = options.token ?? saved?.ownerCredential
  if (!relayUrl || !credential) {
    throw new CliError(`No relay to talk to: start one with "orchard relay --data ${options.data}", or pass --relay <ws-url> --token <owner credential>.`, 2)
  }
  const provider = new RelayProvider({ transport: webSocketTransport(relayUrl), credential, instanceId: `cli-${process.pid}`, label: 'orchard cli', docs: {} })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CliError(`The relay at ${relayUrl} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s. Is it running? Start it with "orchard relay --data ${options.data}".`)), ANSWER_TIMEOUT_MS)
      provider.on('welcome', () => {
        clearTimeout(timer)
        resolve()
      })
      provider.on('stopped', (reason) => {
        clearTimeout(timer)
        reject(new CliError(reason.message))
      })
    })
    const result = await action(provider).catch((error: unknown) => {
      throw error instanceof CliError ? error : new CliError((error as Error).message)
    })
    console.log(typeof result === 'string' ? result : JSON.stringify(result))
    return 0
  } finally {
    provider.destroy()
  }
}

export async function createInvite(provider: RelayProvider, options: { role: string; expires?: number; maxUses?: number; json?: boolean }): Promise<string | object> {
  const result = await provider.request<{ token: string; invite: PublicInvite }>('invite.create', {
    role: options.role,
    ...(options.expires ? { expiresInMs: options.expires } : {}),
    ...(options.maxUses ? { maxUses: options.maxUses } : {})
  })
  return options.json ? result : result.token
}

export async function listInvites(provider: RelayProvider, json: boolean | undefined): Promise<string | object> {
  const invites = await provider.request<PublicInvite[]>('invite.list')
  if (json) return invites
  return renderTable(
    invites,
    [
      { header: 'ID', value: (invite) => invite.id },
      { header: 'ROLE', value: (invite) => invite.role },
      { header: 'USES', value: (invite) => `${invite.uses}/${invite.maxUses ?? 'unlimited'}` },
      { header: 'EXPIRES', value: (invite) => formatTime(invite.expiresAt, 'never') },
      { header: 'CREATED', value: (invite) => formatTime(invite.createdAt) },
      { header: 'STATUS', value: (invite) => inviteStatus(invite) }
    ],
    'No invites. Make one with: orchard invite --role editor'
  )
}

function inviteStatus(invite: PublicInvite): string {
  if (invite.revoked) return 'revoked'
  if (invite.expiresAt !== null && invite.expiresAt <= Date.now()) return 'expired'
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return 'used up'
  return 'active'
}

export async function listMembers(provider: RelayProvider, json: boolean | undefined): Promise<string | object> {
  const members = await provider.request<PublicMember[]>('member.list')
  if (json) return members
  return renderTable(
    members,
    [
      { header: 'ID', value: (member) => member.id },
      { header: 'NAME', value: (member) => member.name },
      { header: 'ROLE', value: (member) => member.role },
      { header: 'JOINED', value: (member) => formatTime(member.createdAt) }
    ],
    'No members.'
  )
}

export async function revokeInvite(provider: RelayProvider, inviteId: string, json: boolean | undefined): Promise<string | object> {
  const invite = await provider.request<PublicInvite>('invite.revoke', { inviteId })
  return json ? invite : `Revoked invite ${invite.id} (${invite.role}).`
}

export async function setRole(provider: RelayProvider, memberId: string, role: string, json: boolean | undefined): Promise<string | object> {
  const member = await provider.request<PublicMember>('member.setRole', { memberId, role })
  return json ? member : `${member.name} (${member.id}) is now ${member.role}.`
}

export async function removeMember(provider: RelayProvider, memberId: string, json: boolean | undefined): Promise<string | object> {
  const member = await provider.request<PublicMember>('member.remove', { memberId })
  return json ? member : `Removed ${member.name} (${member.id}); their sockets are closed.`
}
