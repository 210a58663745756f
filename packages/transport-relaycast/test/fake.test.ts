/**
 * The fake engine's own limits, through the real SDK: what the transport is tested against
 * must behave like RelayCast where it matters (per-workspace minute buckets, 429 with
 * Retry-After, the text cap).
 */
import { RelayCast, type AgentClient } from '@relaycast/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { FakeRelayCast } from './fake/FakeRelayCast.js'

;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

let fake: FakeRelayCast | null = null
afterEach(async () => {
  await fake?.close()
  fake = null
})

async function agentIn(engine: FakeRelayCast, key: string, name: string): Promise<AgentClient> {
  const relay = new RelayCast({ apiKey: key, baseUrl: engine.url, retryPolicy: { maxRetries: 0 } })
  const agent = relay.as((await relay.registerOrRotate({ name, type: 'system' })).token, { ws: {} })
  await agent.channels.create({ name: 'c' })
  return agent
}

describe('the fake engine', () => {
  it('[RC-8] counts posts per workspace per minute: a spent workspace gets rate_limited (429, Retry-After), another still posts', async () => {
    let now = 1_000_000
    fake = await new FakeRelayCast({ postsPerMinute: 3 }, Math.random, () => now).listen()
    const a = await agentIn(fake, fake.createWorkspace('a'), 'a1')
    const b = await agentIn(fake, fake.createWorkspace('b'), 'b1')
    for (let i = 0; i < 3; i++) await a.send('c', `hello ${i}`)
    await expect(a.send('c', 'one too many')).rejects.toMatchObject({ code: 'rate_limited', statusCode: 429 })
    const raw = await fetch(`${fake.url}/v1/channels/c/messages`, { method: 'POST', headers: { authorization: `Bearer ${(a.client as unknown as { apiKey: string }).apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x', mode: 'wait' }) })
    expect(raw.status).toBe(429)
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0)
    await expect(b.send('c', 'other workspace')).resolves.toMatchObject({ text: 'other workspace' })
    now += 60_000
    await expect(a.send('c', 'next minute')).resolves.toMatchObject({ text: 'next minute' })
    expect(fake.violations).toEqual([])
  })

  it('[RC-3] refuses text over its cap with 413, which the transport answers with fragments', async () => {
    fake = await new FakeRelayCast({ maxTextLength: 100 }).listen()
    const a = await agentIn(fake, fake.createWorkspace(), 'a1')
    await expect(a.send('c', 'x'.repeat(101))).rejects.toMatchObject({ statusCode: 413 })
    await expect(a.send('c', 'x'.repeat(100))).resolves.toBeTruthy()
  })
})
