/** The echoing program: `cat` with the tty in raw mode and no tty echo; says READY once set up. */
export const ECHO_COMMAND = {
  command: 'bash',
  args: ['--noprofile', '--norc', '-c', 'stty raw -echo; printf READY; exec cat'],
  cols: 80,
  rows: 24
}

/** A chatty program: after one keystroke, `bytes` of 100-column lines, then FLOOD-DONE. */
export function floodCommand(bytes: number) {
  const line = '0123456789'.repeat(10).slice(0, 99)
  return {
    command: 'bash',
    args: ['--noprofile', '--norc', '-c', `stty -echo; printf READY; read -n 1 _; yes ${line} | head -c ${bytes}; printf '\\nFLOOD-DONE\\n'; exec sleep 600`],
    cols: 120,
    rows: 30
  }
}
