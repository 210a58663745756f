/** What a refused keystroke or resize rejects with (INPUT-1, INPUT-2): one class per code a caller acts on. */

/** This instance does not hold the agent's terminal: refused before sending, or by the relay. */
export class NotHolderError extends Error {
  override readonly name = 'NotHolderError'
  readonly code = 'not-holder'
}

/** The input carried an epoch the lease has moved past (another holder took it over). */
export class StaleEpochError extends Error {
  override readonly name = 'StaleEpochError'
  readonly code = 'stale-epoch'
}

/** Any other refusal by the relay (`forbidden`, `too-large`, `not-found`, `host-offline`, ...). */
export class InputRefusedError extends Error {
  override readonly name = 'InputRefusedError'
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

export function refusalError(code: string, message: string): Error {
  if (code === 'not-holder') return new NotHolderError(message)
  if (code === 'stale-epoch') return new StaleEpochError(message)
  return new InputRefusedError(code, message)
}
