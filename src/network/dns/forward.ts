/**
 * Forwarding a query that is not the network's to the host's resolvers,
 * as Docker's embedded DNS does: each upstream in turn over UDP, the same
 * one again over TCP when its answer is truncated, the next one when it
 * does not answer in time, fails or answers SERVFAIL. The reply is the
 * upstream's bytes with the client's id put back; undefined when no
 * upstream answered (the caller replies SERVFAIL).
 */
import { ExchangeError, tcpExchange, udpExchange, type Upstream } from './upstream.ts';
import { RCode, questionEnd, replyHeader, truncatedCopy, withId, type Query } from './wire.ts';

export interface ForwardContext {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Told of each upstream that failed a query, and why. */
  readonly failed: (upstream: Upstream, reason: string) => void;
}

function reasonOf(err: unknown): string {
  return err instanceof ExchangeError ? err.message : String(err);
}

async function askOne(up: Upstream, query: Query, raw: Buffer, ctx: ForwardContext): Promise<Buffer | undefined> {
  let r: Buffer;
  try {
    r = await udpExchange(up, raw, query.question, ctx.timeoutMs, ctx.signal);
  } catch (err) {
    ctx.failed(up, reasonOf(err));
    return undefined;
  }
  if (replyHeader(r)?.truncated === true) {
    try {
      r = await tcpExchange(up, raw, query.question, ctx.timeoutMs, ctx.signal);
    } catch (err) {
      // The truncated answer still tells the client to come back over TCP itself.
      ctx.failed(up, reasonOf(err));
    }
  }
  if (replyHeader(r)?.rcode === RCode.ServFail) {
    ctx.failed(up, 'answered SERVFAIL');
    return undefined;
  }
  return r;
}

/**
 * The upstreams' reply to `query` (the message `raw`), fit for a client
 * that takes at most `limit` bytes (cut to its question with TC set when
 * larger), or undefined.
 */
export async function forward(upstreams: readonly Upstream[], query: Query, raw: Buffer, limit: number, ctx: ForwardContext): Promise<Buffer | undefined> {
  for (const up of upstreams) {
    if (ctx.signal.aborted) return undefined;
    const r = await askOne(up, query, raw, ctx);
    if (r === undefined) continue;
    const fitted = r.length > limit ? truncatedCopy(r, questionEnd(r)) : r;
    return withId(fitted, query.id);
  }
  return undefined;
}
