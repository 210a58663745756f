import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { FrameDecodeError, FrameKind, decodeFrame, encodeFrame } from '../src/index.js'
import { frameFromJson, frameToJson, type FrameFixture, type RejectedFixture } from './harness/fixture-json.js'
import { fromHex, toHex } from './harness/hex.js'

function load<T>(name: string): T[] {
  return JSON.parse(readFileSync(new URL(`./fixtures/v1/${name}`, import.meta.url), 'utf8')) as T[]
}

const frames = load<FrameFixture>('frames.json')
const rejected = load<RejectedFixture>('rejected.json')

describe('v1 golden fixtures', () => {
  it('[WIRE-1] cover every frame kind', () => {
    const covered = new Set(frames.map((f) => f.frame.kind))
    expect([...covered].sort((a, b) => a - b)).toEqual(Object.values(FrameKind).sort((a, b) => a - b))
  })

  it.each(frames.map((f) => [f.name, f] as const))('[WIRE-1] %s encodes to its golden bytes', (_name, fixture) => {
    expect(toHex(encodeFrame(frameFromJson(fixture.frame)))).toBe(fixture.hex)
  })

  it.each(frames.map((f) => [f.name, f] as const))('[WIRE-1] %s decodes to its frame', (_name, fixture) => {
    const decoded = decodeFrame(fromHex(fixture.hex))
    expect(decoded).toEqual(frameFromJson(fixture.frame))
    expect(frameToJson(decoded)).toStrictEqual(fixture.frame)
  })

  it.each(rejected.map((f) => [f.name, f] as const))('[WIRE-4] rejected fixture %s throws its FrameDecodeError', (_name, fixture) => {
    let caught: unknown
    try {
      decodeFrame(fromHex(fixture.hex))
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(FrameDecodeError)
    const err = caught as FrameDecodeError
    expect(err.code).toBe(fixture.code)
    expect(err.kind).toBe(fixture.kind)
    expect(err.channel).toBe(fixture.channel)
  })
})
