/**
 * Is the port free? Asked before the data file is opened, so a relay that cannot listen
 * touches no file (the real listen can still lose a race; it reports the same way).
 */
import { createServer } from 'node:net'
import { CliError } from './errors.js'

export function portInUse(host: string, port: number): CliError {
  return new CliError(`Port ${port} on ${host} is already in use (another relay?). Stop that process, or pick another port: --port ${port + 1} (or --port 0 for any free port).`)
}

export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return
  await new Promise<void>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(portInUse(host, port))
      else if (error.code === 'EACCES') reject(new CliError(`Not allowed to listen on port ${port} (ports below 1024 need privileges). Use --port 4455.`))
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new CliError(`Cannot listen on host ${host}: it is not an address of this machine. Use --host 127.0.0.1.`))
      else reject(error)
    })
    probe.listen(port, host, () => probe.close(() => resolve()))
  })
}
