/**
 * What a gateway route handler gets and gives back: path parameters, the
 * query, the body as JSON (`unknown` until checked); a status with a JSON
 * value or text. Errors are thrown as BerthErrors and written as text, as
 * OpenFaaS's gateway writes its errors.
 */
export interface GatewayRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly json: () => Promise<unknown>;
  /** Aborted when the client goes away before the answer is complete (a streamed answer stops then). */
  readonly signal: AbortSignal;
}

export type GatewayReply =
  | { status: number; json: unknown }
  | { status: number; text: string; contentType?: string }
  | { status: number; stream: AsyncIterable<string>; contentType: string };

export type GatewayHandler = (req: GatewayRequest) => GatewayReply | Promise<GatewayReply>;

export interface GatewayRoute {
  method: string;
  pattern: RegExp;
  names: readonly string[];
  handler: GatewayHandler;
  /** Under basic auth (every `/system/*` route). */
  auth: boolean;
}

/** `/system/function/{name}` → a route matching it, with `name` as a parameter. */
export function route(method: string, path: string, handler: GatewayHandler): GatewayRoute {
  const names: string[] = [];
  const source = path.replace(/\{([a-zA-Z]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${source}$`), names, handler, auth: path.startsWith('/system/') };
}

export const ok = (json: unknown, status = 200): GatewayReply => ({ status, json });
export const text = (body: string, status = 200, contentType = 'text/plain; charset=utf-8'): GatewayReply => ({ status, text: body, contentType });
