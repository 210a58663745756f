/**
 * The WebSocket front under hostile sockets (issue 9, items 1 and 8): a path that is not
 * valid percent-encoding, a frame far over the limit, TCP connections that never finish
 * the upgrade, and connect storms. Each costs only its sender; the relay keeps serving.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { FrameKind, PROTOCOL_VERSION, decodeFrame, encodeFrame, type Frame } from '@orchard/protocol'
import { eventually, startTestRelay } from '@orchard/relay/testing'
import { startRelayProcess, type RelayProcess } from '../harness/relay-process.js'

const cleanup: Array<() => Promise<unknown> | void> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

/** Sends raw bytes on a fresh TCP connection and collects what comes back until it closes. */
function rawHttp(port: number, request: string): Promise<{ response: string; socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let response = ''
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.on('data', (chunk) => (response += chunk.toString('latin1')))
    socket.once('error', () => undefined)
    socket.once('connect', () => {
      socket.write(request)
      resolve({
        get response() {
          return response
        },
        socket,
        closed
      })
    })
    socket.once('error', reject)
  })
}

function upgradeRequest(path: string): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    '',
    ''
  ].join('\r\n')
}

/** A raw Orchard socket on a real server: frames received and how it closed. */
function orchardSocket(url: string) {
  const ws = new WebSocket(`${url}/orchard`)
  const frames: Frame[] = []
  const state = { closed: null as { code: number; reason: string } | null, opened: false }
  ws.on('open', () => (state.opened = true))
  ws.on('message', (data: Buffer) => frames.push(decodeFrame(new Uint8Array(data))))
  ws.on('close', (code, reason) => (state.closed = { code, reason: reason.toString() }))
  ws.on('error', () => undefined)
  cleanup.push(() => ws.terminate())
  return { ws, frames, state, send: (frame: Frame) => ws.send(encodeFrame(frame)) }
}

function hello(credential: string, instanceId = 'raw'): Frame {
  return { kind: FrameKind.hello, channel: '', protocol: PROTOCOL_VERSION, credential, instanceId }
}

describe('upgrades', () => {
  it('[SERVER-5] an upgrade whose path is not valid percent-encoding gets HTTP 400; the relay process keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchard-upgrade-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const relay: RelayProcess = await startRelayProcess(['--data', join(dir, 'relay.db')])
    cleanup.push(() => relay.kill())
    const port = Number(new URL(relay.info.url).port)
    const bad = await rawHttp(port, upgradeRequest('/%E0%A4%A?token=x'))
    await bad.closed
    // What the user sees: a plain refusal naming the problem, not a crash.
    expect(bad.response).toMatch(/^HTTP\/1\.1 400 /)
    expect(bad.response).toContain('percent-encoding')
    // The process is still up and still serves a real client.
    expect(relay.child.exitCode).toBeNull()
    const client = orchardSocket(relay.info.url)
    await eventually(() => client.state.opened, { what: 'a new socket opens' })
    client.send(hello(relay.info.ownerToken))
    await eventually(() => client.frames.find((frame) => frame.kind === FrameKind.welcome), { what: 'welcome after the bad upgrade' })
    expect(relay.stderr()).not.toContain('URIError')
  })

  it('[SERVER-6] a TCP connection that never finishes the upgrade is closed after upgradeTimeoutMs', async () => {
    const relay = await startTestRelay({ limits: { upgradeTimeoutMs: 300 } })
    cleanup.push(() => relay.close())
    const silent = await rawHttp(relay.server.port, '')
    const partial = await rawHttp(relay.server.port, 'GET /orchard HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    await eventually(() => silent.socket.destroyed && partial.socket.destroyed, { timeoutMs: 5_000, what: 'both half-open connections closed by the relay' })
    // A socket that upgrades but never says HELLO is closed by the hello timeout (CONN-1).
    expect(await (await fetch(`http://127.0.0.1:${relay.server.port}/healthz`)).json()).toMatchObject({ ok: true })
  })

  it('[SERVER-6] a socket that is told to close but never reads is dropped after closeGraceMs, not ws\'s 30 s', async () => {
    const relay = await startTestRelay({ limits: { helloTimeoutMs: 100, closeGraceMs: 300 } })
    cleanup.push(() => relay.close())
    // The relay's end of the connection, seen from its accept on: on a loaded machine the
    // hello timeout and the grace can both pass before this test looks again, so a count of
    // open connections taken after 'open' could already be 0.
    const accepted: Socket[] = []
    relay.server.http.on('connection', (socket: Socket) => accepted.push(socket))
    const client = orchardSocket(relay.url)
    // It never says HELLO and never reads, from its first moment (an answer to the relay's
    // close frame would end the connection cleanly, without the grace): the close goes unanswered.
    client.ws.once('open', () => client.ws.pause())
    await eventually(() => client.state.opened, { what: 'open' })
    expect(accepted).toHaveLength(1)
    await eventually(() => accepted[0]!.destroyed, { timeoutMs: 5_000, what: 'the relay dropped the silent socket' })
    const tcpConnections = () => new Promise<number>((resolve) => relay.server.http.getConnections((_error, count) => resolve(count)))
    expect(await tcpConnections()).toBe(0)
  })
})

describe('frame size', () => {
  it('[LIMIT-1] a frame over twice the limit closes with 4413 and says why, not a bare 1006', async () => {
    const relay = await startTestRelay({ limits: { maxFrameBytes: 1024 } })
    cleanup.push(() => relay.close())
    const client = orchardSocket(relay.url)
    await eventually(() => client.state.opened, { what: 'open' })
    client.send(hello(relay.ownerCredential))
    await eventually(() => client.frames.find((frame) => frame.kind === FrameKind.welcome), { what: 'welcome' })
    client.ws.send(new Uint8Array(64 * 1024))
    await eventually(() => client.state.closed, { what: 'close' })
    expect(client.state.closed).toEqual({ code: 4413, reason: 'too-large' })
    expect(client.frames.at(-1)).toMatchObject({ kind: FrameKind.error, code: 'too-large', message: expect.stringContaining('1024') })
  })
})

describe('connection rate', () => {
  it('[LIMIT-7] connects beyond the per-address burst get HTTP 429 with Retry-After; other work carries on', async () => {
    const relay = await startTestRelay({ limits: { addressConnectBurst: 5, addressConnectsPerSecond: 0.5 } })
    cleanup.push(() => relay.close())
    const answers: string[] = []
    for (let n = 0; n < 8; n++) {
      const attempt = await rawHttp(relay.server.port, upgradeRequest('/orchard'))
      await eventually(() => attempt.response.includes('\r\n\r\n'), { what: `answer to upgrade ${n}` })
      answers.push(attempt.response.split('\r\n')[0] as string)
      if (attempt.response.startsWith('HTTP/1.1 429')) expect(attempt.response).toMatch(/Retry-After: \d+/i)
      attempt.socket.destroy()
    }
    expect(answers.slice(0, 5).every((line) => line.startsWith('HTTP/1.1 101'))).toBe(true)
    expect(answers.slice(5).every((line) => line.startsWith('HTTP/1.1 429'))).toBe(true)
    // Plain HTTP is not a connect: health checks still answer.
    expect((await fetch(`http://127.0.0.1:${relay.server.port}/healthz`)).status).toBe(200)
  })

  it('[LIMIT-8] a member reconnecting in a storm is refused with 1013 and rate-limited; the stored docs do not grow', async () => {
    const relay = await startTestRelay({ limits: { memberConnectBurst: 10, memberConnectsPerSecond: 0.5 } })
    cleanup.push(() => relay.close())
    const closes: Array<{ code: number; reason: string }> = []
    const errors: Frame[] = []
    const storedBefore = relay.core.metrics.updatesTotal
    for (let n = 0; n < 40; n++) {
      const client = orchardSocket(relay.url)
      await eventually(() => client.state.opened, { what: `socket ${n} open` })
      client.send(hello(relay.ownerCredential, `cycle-${n}`))
      await eventually(() => client.frames.length > 0 || client.state.closed, { what: `answer to HELLO ${n}` })
      if (client.frames[0]?.kind === FrameKind.welcome) client.ws.close()
      else {
        await eventually(() => client.state.closed, { what: `refusal ${n} closed` })
        closes.push(client.state.closed!)
        errors.push(...client.frames.filter((frame) => frame.kind === FrameKind.error))
      }
      await eventually(() => client.state.closed, { what: `socket ${n} closed` })
    }
    expect(closes.length).toBeGreaterThanOrEqual(28)
    expect(closes.every((close) => close.code === 1013 && close.reason === 'connect-rate-limited')).toBe(true)
    expect(errors[0]).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('Too many connections'), data: { retryAfterMs: expect.any(Number) } })
    await relay.core.pipeline.drain()
    // Only admitted connections wrote (joined/left) to the control doc: the burst, plus refill.
    const admitted = 40 - closes.length
    expect(admitted).toBeLessThanOrEqual(12)
    // Each admitted cycle writes join + leave (instance and activity); a refused one writes nothing.
    expect(relay.core.metrics.updatesTotal - storedBefore).toBeLessThanOrEqual(admitted * 4 + 2)
  })
})
