/**
 * What a chatty agent prints: build-log lines with colours and counters, deterministic, so
 * the page and the no-network ceiling write exactly the same bytes. Pure (runs in Node and
 * in the ceiling page).
 */
const WORDS = ['compiling', 'linking', 'testing', 'fetching', 'resolving', 'bundling', 'checking', 'writing']

export function chattyLine(index: number): string {
  const word = WORDS[index % WORDS.length] as string
  const percent = (index * 7) % 100
  return `\x1b[32m${word}\x1b[0m src/module-${index % 977}/file-${index}.ts \x1b[2m(${percent}%)\x1b[0m ${'.'.repeat(index % 23)} ok\r\n`
}

/** `bytes` of chatty output starting at line `from`, and the next line index. */
export function chattyChunk(from: number, bytes: number): { text: string; next: number } {
  let text = ''
  let line = from
  while (text.length < bytes) text += chattyLine(line++)
  return { text, next: line }
}
