/**
 * RPC dispatch: each method has a zod schema for its params (a bad call is a clear
 * 'invalid-params' error, never a crash) and a handler. Handlers throw RpcError for
 * failures the caller should see; anything else becomes 'internal' and is logged.
 */
import type { z } from 'zod'
import type { RpcContext } from './rpc-port.js'
import { RpcError } from './RpcError.js'

export type { RpcContext, RpcRoom } from './rpc-port.js'

type Handler<P> = (ctx: RpcContext, params: P) => Promise<unknown> | unknown

interface Route {
  schema: z.ZodType<unknown>
  handler: Handler<unknown>
}

export class RpcRouter {
  private readonly routes = new Map<string, Route>()

  register<S extends z.ZodType<unknown>>(method: string, schema: S, handler: Handler<z.infer<S>>): this {
    this.routes.set(method, { schema, handler: handler as Handler<unknown> })
    return this
  }

  get methods(): string[] {
    return [...this.routes.keys()].sort()
  }

  async handle(ctx: RpcContext, method: string, params: unknown): Promise<unknown> {
    const route = this.routes.get(method)
    if (!route) throw new RpcError('not-found', `The relay has no method "${method}". Update the client or the relay.`)
    const parsed = route.schema.safeParse(params ?? {})
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'params'}: ${issue.message}`).join('; ')
      throw new RpcError('invalid-params', `Bad parameters for ${method}: ${detail}`)
    }
    return route.handler(ctx, parsed.data)
  }
}
