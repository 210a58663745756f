/**
 * What a person sees when they get the command wrong, stop it, or list things: the real
 * `orchard` command as a child process.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { builtEnv } from '../../../scripts/built-packages.js'
import { BIN, orchard, startRelay } from './harness/cli-process.js'

const dir = mkdtempSync(join(tmpdir(), 'orchard-cli-usage-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('help and bad usage', () => {
  it('[CLI-2] orchard --help lists the commands, orchard <command> --help its flags; typos get a suggestion', async () => {
    const [top, relay, invite, typo, unknown] = await Promise.all([
      orchard(['--help']),
      orchard(['relay', '--help']),
      orchard(['invite', '--help']),
      orchard(['relay', '--prot', '5000']),
      orchard(['relya'])
    ])
    expect(top.code).toBe(0)
    for (const command of ['relay', 'invite', 'invites', 'revoke', 'members', 'role', 'remove']) expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'))
    expect(relay).toMatchObject({ code: 0, stdout: expect.stringContaining('--port <port>') })
    expect(relay.stdout).toContain('--durability <mode>')
    expect(invite).toMatchObject({ code: 0, stdout: expect.stringContaining('--max-uses <n>') })
    expect(typo.code).not.toBe(0)
    expect(typo.stderr).toContain("unknown option '--prot'")
    expect(typo.stderr).toContain('Did you mean --port?')
    expect(unknown.stderr).toContain("unknown command 'relya'")
    expect(unknown.stderr).toContain('Did you mean relay?')
  }, 60_000)

  it('[CLI-3] bad flag values are refused with what to type instead, before any file is created', async () => {
    const data = join(dir, 'never.db')
    const runs = await Promise.all([
      orchard(['relay', '--port', 'abc', '--data', data]),
      orchard(['relay', '--port', '70000', '--data', data]),
      orchard(['relay', '--durability', 'fast', '--data', data]),
      orchard(['invite', '--role', 'viewer', '--expires', 'soon', '--data', data]),
      orchard(['invite', '--role', 'viewer', '--max-uses', '0', '--data', data]),
      orchard(['invite', '--role', 'admin', '--data', data])
    ])
    const [port, bigPort, durability, expires, maxUses, role] = runs
    expect(port.stderr).toContain("option '--port <port>' argument 'abc' is invalid. Use a port number from 0 to 65535")
    expect(bigPort.stderr).toContain('Use a port number from 0 to 65535')
    expect(durability.stderr).toContain("argument 'fast' is invalid. Allowed choices are full, normal.")
    expect(expires.stderr).toContain('"soon" is not a duration; use e.g. 30m, 12h or 7d.')
    expect(maxUses.stderr).toContain('Use a whole number of at least 1')
    expect(role.stderr).toContain("argument 'admin' is invalid. Allowed choices are editor, viewer.")
    for (const run of runs) {
      expect(run.code).not.toBe(0)
      expect(run.stderr).not.toMatch(/\n\s+at /) // no stack trace
    }
    expect(existsSync(data)).toBe(false)
    expect(existsSync(`${data}.owner.json`)).toBe(false)
  }, 60_000)

  it('[CLI-4] a port in use is named, with --port suggested, and no data file is created', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    const data = join(dir, 'busy.db')
    try {
      const run = await orchard(['relay', '--port', String(port), '--data', data])
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`)
      expect(run.stderr).toContain(`--port ${port + 1} (or --port 0 for any free port)`)
      expect(run.stderr).not.toMatch(/EADDRINUSE|\n\s+at /)
      expect(existsSync(data)).toBe(false)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  }, 30_000)

  it('[CLI-7] owner.json is never overwritten; an unparsable one is refused in one sentence before anything is opened', async () => {
    const data = join(dir, 'owner.db')
    const first = await startRelay(['--data', data])
    const saved = readFileSync(`${data}.owner.json`, 'utf8')
    expect(await first.stop()).toBe(0)
    const second = await startRelay(['--data', data])
    expect(second.info.url).not.toBe(first.info.url) // another port ...
    expect(readFileSync(`${data}.url`, 'utf8').trim()).toBe(second.info.url)
    expect(second.info.ownerToken).toBe(first.info.ownerToken)
    expect(await second.stop()).toBe(0)
    expect(readFileSync(`${data}.owner.json`, 'utf8')).toBe(saved) // ... same bytes

    const broken = join(dir, 'broken.db')
    writeFileSync(`${broken}.owner.json`, '{"workspaceId": "abc", ')
    const [relay, members] = await Promise.all([orchard(['relay', '--port', '0', '--data', broken]), orchard(['members', '--data', broken])])
    for (const run of [relay, members]) {
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`orchard: ${broken}.owner.json is not valid JSON`)
      expect(run.stderr).toContain('restore it from a backup, or move it aside and pass --token <owner credential>')
      expect(run.stderr).not.toMatch(/\n\s+at /)
    }
    expect(existsSync(broken)).toBe(false)
    expect(readFileSync(`${broken}.owner.json`, 'utf8')).toBe('{"workspaceId": "abc", ')
  }, 60_000)
})

describe('tables and stopping', () => {
  it('[CLI-6] members and invites print a table by default and JSON with --json', async () => {
    const data = join(dir, 'tables.db')
    const relay = await startRelay(['--data', data])
    try {
      await orchard(['invite', '--role', 'viewer', '--max-uses', '3', '--expires', '7d', '--data', data])
      const [members, membersJson, invites, invitesJson] = await Promise.all([
        orchard(['members', '--data', data]),
        orchard(['members', '--data', data, '--json']),
        orchard(['invites', '--data', data]),
        orchard(['invites', '--data', data, '--json'])
      ])
      const memberLines = members.stdout.trim().split('\n')
      expect(memberLines[0]).toMatch(/^ID\s+NAME\s+ROLE\s+JOINED$/)
      expect(memberLines[1]).toMatch(/^\S+\s+Owner\s+owner\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)
      expect(JSON.parse(membersJson.stdout)).toEqual([expect.objectContaining({ name: 'Owner', role: 'owner', createdAt: expect.any(Number) })])

      const inviteLines = invites.stdout.trim().split('\n')
      expect(inviteLines[0]).toMatch(/^ID\s+ROLE\s+USES\s+EXPIRES\s+CREATED\s+STATUS$/)
      // The two first-start invites have no expiry and no use limit; the new one has both.
      expect(inviteLines.filter((line) => /\s0\/unlimited\s+never\s+.*active$/.test(line))).toHaveLength(2)
      expect(inviteLines.filter((line) => /\sviewer\s+0\/3\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s+.*active$/.test(line))).toHaveLength(1)
      const parsed = JSON.parse(invitesJson.stdout) as Array<{ maxUses: number | null }>
      expect(parsed.map((invite) => invite.maxUses).sort()).toEqual([3, null, null])
    } finally {
      expect(await relay.stop()).toBe(0)
    }
  }, 60_000)

  it('[CLI-5] Ctrl-C stores and exits 0, also as a pnpm script: no "ELIFECYCLE Command failed"', async () => {
    const direct = await startRelay(['--data', join(dir, 'sigint.db')])
    expect(await direct.stop('SIGINT')).toBe(0)

    // A package script as `pnpm start` runs it; the terminal's Ctrl-C goes to the whole
    // process group (pnpm, its shell, the relay), which is what we send.
    const project = mkdtempSync(join(dir, 'script-'))
    // As the repo's own `pnpm start` runs it: `exec node <the built bin>`.
    const script = `exec node ${BIN} relay --port 0 --data ${join(project, 'relay.db')}`
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'ctrl-c', private: true, scripts: { relay: script } }))
    const execPath = process.env.npm_execpath ?? ''
    const [command, args] = /pnpm/.test(execPath) ? [process.execPath, [execPath]] : ['npx', ['-y', 'pnpm@10.34.8']]
    const child = spawn(command, [...args, 'run', 'relay'], { cwd: project, env: builtEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay did not start: ${output}`)), 25_000)
      const read = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Stop: Ctrl-C')) {
          clearTimeout(timer)
          resolve()
        }
      }
      child.stdout?.on('data', read)
      child.stderr?.on('data', read)
    })
    process.kill(-(child.pid as number), 'SIGINT')
    const code = await exited
    expect(output).toContain('SIGINT: storing everything and stopping...')
    expect(output).not.toContain('ELIFECYCLE')
    if (command === process.execPath) expect(code).toBe(0) // through npx, npm's own shell dies of the signal
  }, 60_000)
})
