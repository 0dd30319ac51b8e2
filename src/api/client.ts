/**
 * The CLI's side of berthd's socket: JSON requests, streamed answers (logs
 * --follow, events) as an async iterator of chunks, and hijacked
 * connections (attach, exec) as the raw socket once the daemon's 101 head is
 * read. An error answer becomes a BerthError again: the daemon's message,
 * with a code and kind from the HTTP status; a socket nothing answers on is
 * `daemon_unreachable`.
 */
import { request, type RequestOptions as HttpRequestOptions, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import {
  BerthError,
  ErrorKind,
  errnoCode,
  failedPrecondition,
  internal,
  invalidArgument,
  notFound,
  unavailable,
  unsupported,
} from '../errors.ts';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined> | URLSearchParams;
  /** Sent as JSON (undefined: no body). */
  body?: unknown;
  headers?: OutgoingHttpHeaders;
  /** Gives up (daemon_timeout) when no answer's head came by then. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Hijacked {
  /** The raw connection: what the daemon sends, and where the client's input goes. */
  socket: Socket;
  status: number;
  contentType: string;
}

/** The BerthError of an error answer: the daemon's message, a code and kind from the status. */
export function errorFromAnswer(status: number, body: Buffer | string, what: string): BerthError {
  let message = typeof body === 'string' ? body : body.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: the text is the message
  }
  message = message.trim() || `${what}: HTTP ${status}`;
  const details = { status };
  switch (status) {
    case 400:
      return invalidArgument('daemon_invalid_argument', message, { details });
    case 401:
    case 403:
      return new BerthError(ErrorKind.PermissionDenied, 'daemon_permission_denied', message, { details });
    case 404:
      return notFound('daemon_not_found', message, { details });
    case 409:
      return failedPrecondition('daemon_conflict', message, { details });
    case 501:
      return unsupported('daemon_unsupported', message, { details });
    case 503:
      return unavailable('daemon_unavailable', message, { details });
    default:
      return internal('daemon_error', message, { details });
  }
}

export class ApiClient {
  readonly socket: string;

  constructor(socket: string) {
    this.socket = socket;
  }

  /** The answer whatever its status (callers that branch on it); transport failures throw. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const res = await this.open(method, path, options);
    const chunks: Buffer[] = [];
    for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /** The answer's JSON (undefined for an empty body); an error status throws its BerthError. */
  async json(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const answer = await this.request(method, path, options);
    if (answer.status >= 400) throw errorFromAnswer(answer.status, answer.body, `${method} ${path}`);
    if (answer.body.length === 0) return undefined;
    try {
      return JSON.parse(answer.body.toString('utf8')) as unknown;
    } catch {
      throw internal('daemon_protocol', `${method} ${path}: berthd's answer is not JSON`);
    }
  }

  /** The answer's body as it comes; stopping the iteration closes the connection. */
  async *stream(method: string, path: string, options: RequestOptions = {}): AsyncGenerator<Buffer> {
    const res = await this.open(method, path, options);
    try {
      if ((res.statusCode ?? 0) >= 400) {
        const chunks: Buffer[] = [];
        for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
        throw errorFromAnswer(res.statusCode ?? 0, Buffer.concat(chunks), `${method} ${path}`);
      }
      for await (const chunk of res as AsyncIterable<Buffer>) yield chunk;
    } finally {
      res.destroy();
    }
  }

  /** Asks to upgrade, as the docker CLI does; resolves with the raw socket after the 101 head. */
  hijack(method: string, path: string, options: RequestOptions = {}): Promise<Hijacked> {
    const req = this.send(method, path, { ...options, headers: { ...options.headers, Connection: 'Upgrade', Upgrade: 'tcp' } });
    return new Promise((resolve, reject) => {
      req.once('error', (err) => reject(this.transportError(err, method, path)));
      req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        // Bytes that came in the same read as the head are the stream's first.
        if (head.length > 0) socket.unshift(head);
        resolve({ socket, status: res.statusCode ?? 101, contentType: String(res.headers['content-type'] ?? '') });
      });
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          const status = res.statusCode ?? 0;
          reject(status >= 400 ? errorFromAnswer(status, Buffer.concat(chunks), `${method} ${path}`) : internal('daemon_protocol', `${method} ${path}: berthd answered ${status} instead of upgrading`));
        });
      });
    });
  }

  /** Whether berthd answers `GET /_ping` with OK within `timeoutMs`. */
  async ping(timeoutMs = 2_000): Promise<boolean> {
    try {
      const answer = await this.request('GET', '/_ping', { timeoutMs });
      return answer.status === 200 && answer.body.toString() === 'OK';
    } catch {
      return false;
    }
  }

  /** The answer once its head came, the body unread (a long wait whose start must be known before the next request). */
  open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const req = this.send(method, path, options);
    return new Promise((resolve, reject) => {
      req.once('error', (err) => reject(this.transportError(err, method, path)));
      req.once('response', resolve);
    });
  }

  private send(method: string, path: string, options: RequestOptions): ClientRequest {
    const query = options.query instanceof URLSearchParams ? options.query : queryOf(options.query ?? {});
    const search = query.toString();
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = body.length;
    }
    // No agent: a pooled connection would keep a short command alive after its answer. No TLS server
    // name either: Node would otherwise work one out for the socket (compiling its IPv6 expression).
    const opts: HttpRequestOptions & { servername: string } = { socketPath: this.socket, method, path: search === '' ? path : `${path}?${search}`, headers, agent: false, servername: '' };
    if (options.signal) opts.signal = options.signal;
    const req = request(opts);
    if (options.timeoutMs !== undefined) {
      const ms = options.timeoutMs;
      const timer = setTimeout(() => req.destroy(unavailable('daemon_timeout', `${method} ${path}: berthd did not answer within ${ms} ms (socket ${this.socket})`)), ms);
      req.once('response', () => clearTimeout(timer)).once('upgrade', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
    }
    req.end(body);
    return req;
  }

  private transportError(err: unknown, method: string, path: string): Error {
    if (err instanceof BerthError) return err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      return unavailable('daemon_unreachable', `berthd: nothing answers on ${this.socket} (start it with 'berth system service')`, { cause: err });
    }
    if (code === 'EACCES') {
      return new BerthError(ErrorKind.PermissionDenied, 'daemon_permission_denied', `berthd: no permission to connect to ${this.socket} (root or the socket's group)`, { cause: err });
    }
    return unavailable('daemon_unreachable', `berthd: ${method} ${path} on ${this.socket} failed`, { cause: err });
  }
}

function queryOf(values: Record<string, string | number | boolean | undefined>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  return q;
}
