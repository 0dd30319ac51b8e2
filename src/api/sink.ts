/**
 * Where a reply is written: a node:http ServerResponse for a plain request,
 * or the raw socket of a request that asked to upgrade (attach, exec start:
 * node:http hands those over before any response, so berthd writes the
 * HTTP/1.1 head itself). Hijacking follows dockerd byte for byte: `101
 * UPGRADED` with `Connection: Upgrade` and `Upgrade: tcp` when the client
 * asked to upgrade, else `200 OK`; then the stream's Content-Type, the
 * daemon's headers, and the raw connection.
 */
import { once } from 'node:events';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex, type Writable } from 'node:stream';
import type { Headers } from './reply.ts';

export interface Sink {
  /** Whether the head went out (an error after that can only end the connection). */
  readonly started: boolean;
  /** The status sent, for logs and metrics. */
  readonly status: number | undefined;
  whole(status: number, headers: Headers, body: Buffer | undefined): void;
  stream(status: number, headers: Headers, source: AsyncIterable<Uint8Array | string>, signal: AbortSignal): Promise<void>;
  hijack(contentType: string, headers: Headers, run: (conn: Duplex) => Promise<void>): Promise<void>;
  destroy(): void;
}

function rawHead(statusLine: string, headers: Headers): string {
  let head = `HTTP/1.1 ${statusLine}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return `${head}\r\n`;
}

/**
 * Writes `source` to `out` as fast as the client reads it. Returns when the
 * source ends or `signal` aborts (the client went away, the daemon stops);
 * either way the source's return() runs, so its finally blocks clean up.
 */
export async function pump(source: AsyncIterable<Uint8Array | string>, out: Writable, signal: AbortSignal): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  let done = false;
  try {
    for (;;) {
      const next = await Promise.race([it.next(), aborted]);
      if (next === 'aborted') return;
      if (next.done === true) {
        done = true;
        return;
      }
      if (!out.write(next.value)) {
        try {
          await once(out, 'drain', { signal });
        } catch {
          return;
        }
      }
    }
  } finally {
    // Not awaited: a source blocked inside (waiting for the next event) settles its return() only
    // when it next yields; it has the request's signal to stop sooner.
    if (!done) it.return?.()?.catch(() => {});
  }
}

export class ResponseSink implements Sink {
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private hijackedStatus: number | undefined;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.req = req;
    this.res = res;
  }

  get started(): boolean {
    return this.res.headersSent || this.hijackedStatus !== undefined;
  }

  get status(): number | undefined {
    return this.hijackedStatus ?? (this.res.headersSent ? this.res.statusCode : undefined);
  }

  whole(status: number, headers: Headers, body: Buffer | undefined): void {
    this.res.writeHead(status, { ...headers, ...(body === undefined ? {} : { 'Content-Length': String(body.length) }) });
    this.res.end(body);
  }

  async stream(status: number, headers: Headers, source: AsyncIterable<Uint8Array | string>, signal: AbortSignal): Promise<void> {
    this.res.writeHead(status, headers);
    this.res.flushHeaders();
    await pump(source, this.res, signal);
    if (!this.res.destroyed) this.res.end();
  }

  async hijack(contentType: string, headers: Headers, run: (conn: Duplex) => Promise<void>): Promise<void> {
    // No upgrade asked: dockerd answers 200 and the connection is raw from then on; the client's
    // input is what follows as the request's body.
    const socket = this.res.socket;
    if (socket === null) return;
    this.hijackedStatus = 200;
    socket.write(rawHead('200 OK', { 'Content-Type': contentType, ...headers }));
    const conn = Duplex.from({ readable: this.req, writable: socket });
    // A client that goes away ends the pair early ("premature close"): the handler's stream ends, nothing crashes.
    conn.on('error', () => {});
    await run(conn);
    socket.end();
  }

  destroy(): void {
    this.res.destroy();
  }
}

export class UpgradeSink implements Sink {
  private readonly socket: Socket;
  private sent: number | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  get started(): boolean {
    return this.sent !== undefined;
  }

  get status(): number | undefined {
    return this.sent;
  }

  private head(status: number, headers: Headers): void {
    this.sent = status;
    this.socket.write(rawHead(`${status} ${STATUS_CODES[status] ?? ''}`, { ...headers, Connection: 'close' }));
  }

  whole(status: number, headers: Headers, body: Buffer | undefined): void {
    this.head(status, { ...headers, 'Content-Length': String(body?.length ?? 0) });
    this.socket.end(body ?? Buffer.alloc(0));
  }

  async stream(status: number, headers: Headers, source: AsyncIterable<Uint8Array | string>, signal: AbortSignal): Promise<void> {
    this.head(status, headers);
    await pump(source, this.socket, signal);
    this.socket.end();
  }

  async hijack(contentType: string, headers: Headers, run: (conn: Duplex) => Promise<void>): Promise<void> {
    this.sent = 101;
    this.socket.write(rawHead('101 UPGRADED', { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp', ...headers }));
    await run(this.socket);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
