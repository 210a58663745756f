/**
 * The `orchard` command line, on commander: `orchard --help`, `orchard <command> --help`,
 * unknown flags and bad values are refused with a sentence saying what to type, before any
 * file is touched or any relay contacted. Each command's module is imported when it runs,
 * so management commands never load the relay or SQLite.
 */
import { Command, Option } from 'commander'
import { CliError } from './errors.js'
import { parseDataPath, parseDuration, parsePort, parsePositiveInt, parseRelayUrl } from './options.js'
import type { ConnectionOptions } from './commands/manage.js'
import { addRelayLimitOptions, type RelayLimitFlags } from './commands/relay-limit-options.js'

declare const __ORCHARD_VERSION__: string | undefined

const DEFAULT_DATA = './orchard.db'

function managementCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--data <file>', 'the relay\'s data file; its owner credential is read from <file>.owner.json', parseDataPath, parseDataPath(DEFAULT_DATA))
    .option('--relay <ws-url>', 'talk to this relay instead of the one recorded next to --data', parseRelayUrl)
    .option('--token <credential>', 'the owner credential to use instead of the one in <data>.owner.json')
    .option('--json', 'print JSON instead of text')
}

export function buildProgram(): Command {
  const program = new Command('orchard')
    .description('Run an Orchard relay and manage who can join its workspace.')
    .version(typeof __ORCHARD_VERSION__ === 'string' ? __ORCHARD_VERSION__ : '0.0.0-source', '-v, --version')
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)

  const relay = program
    .command('relay')
    .description('Start the relay (creates a workspace on the first start and prints its owner credential and invites).')
    .option('--port <port>', 'TCP port (0 picks a free one)', parsePort, 4455)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data <file>', 'SQLite data file (created on the first start)', parseDataPath, parseDataPath(DEFAULT_DATA))
    .addOption(new Option('--durability <mode>', 'full: every commit fsynced (survives power loss); normal: survives a crash of the relay process').choices(['full', 'normal']).default('full'))
    .option('--demo', 'seed a new workspace with three demo Pear projects')
    .option('--json', 'print one JSON line (workspaceId, url, ownerToken, editorInvite, viewerInvite, adminToken, data) instead of text')
    .addOption(new Option('--log-level <level>', 'pino log level; logs are JSON lines on stderr').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'))
    .action(async (options: { port: number; host: string; data: string; durability: 'full' | 'normal'; demo?: boolean; json?: boolean; logLevel: string } & RelayLimitFlags) => {
      const { runRelay } = await import('./commands/relay.js')
      process.exitCode = await runRelay(options)
    })
  // Added after the general flags, so that `orchard relay --help` lists those first.
  addRelayLimitOptions(relay)

  managementCommand(program, 'invite', 'Make an invite (default: no expiry, unlimited uses).')
    .addOption(new Option('--role <role>', 'what the invite lets its users do').choices(['editor', 'viewer']).makeOptionMandatory())
    .option('--expires <duration>', 'expiry, e.g. 30m, 12h or 7d (default: never)', parseDuration)
    .option('--max-uses <n>', 'how many people can join with it (default: unlimited)', parsePositiveInt)
    .action(async (options: ConnectionOptions & { role: string; expires?: number; maxUses?: number }) => {
      const manage = await import('./commands/manage.js')
      process.exitCode = await manage.withOwner(options, (provider) => manage.createInvite(provider, options))
    })

  managementCommand(program, 'invites', 'List invites (a table; --json for JSON).').action(async (options: ConnectionOptions) => {
    const manage = await import('./commands/manage.js')
    process.exitCode = await manage.withOwner(options, (provider) => manage.listInvites(provider, options.json))
  })

  managementCommand(program, 'revoke', 'Revoke an invite (members who joined with it stay).')
    .argument('<inviteId>', 'the invite\'s id, from "orchard invites"')
    .action(async (inviteId: string, options: ConnectionOptions) => {
      const manage = await import('./commands/manage.js')
      process.exitCode = await manage.withOwner(options, (provider) => manage.revokeInvite(provider, inviteId, options.json))
    })

  managementCommand(program, 'members', 'List members (a table; --json for JSON).').action(async (options: ConnectionOptions) => {
    const manage = await import('./commands/manage.js')
    process.exitCode = await manage.withOwner(options, (provider) => manage.listMembers(provider, options.json))
  })

  managementCommand(program, 'role', 'Change a member\'s role; it applies to their live sockets at once.')
    .argument('<memberId>', 'the member\'s id, from "orchard members"')
    .argument('<role>', 'owner, editor or viewer')
    .action(async (memberId: string, role: string, options: ConnectionOptions) => {
      if (!['owner', 'editor', 'viewer'].includes(role)) throw new CliError(`"${role}" is not a role; use owner, editor or viewer.`, 2)
      const manage = await import('./commands/manage.js')
      process.exitCode = await manage.withOwner(options, (provider) => manage.setRole(provider, memberId, role, options.json))
    })

  managementCommand(program, 'remove', 'Remove a member; their sockets are closed at once.')
    .argument('<memberId>', 'the member\'s id, from "orchard members"')
    .action(async (memberId: string, options: ConnectionOptions) => {
      const manage = await import('./commands/manage.js')
      process.exitCode = await manage.withOwner(options, (provider) => manage.removeMember(provider, memberId, options.json))
    })

  return program
}

/** Runs the CLI; resolves with the exit code. Errors the user can fix print one line, no stack. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`orchard: ${error.message}`)
      return error.exitCode
    }
    console.error(`orchard: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}
