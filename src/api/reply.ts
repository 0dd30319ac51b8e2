/**
 * What a handler gets and gives back. A handler validates its request and
 * throws a BerthError for anything wrong (the server turns it into
 * `{"message": ...}` with the status from src/error-status.ts); only then
 * does it return a Reply, which the server writes: a JSON value, bytes,
 * nothing, a stream (logs --follow, events, stats) written with
 * backpressure, or a hijack (attach, exec start) that takes the connection
 * over after the head. Handlers never write to the socket themselves.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Query } from './query.ts';

export interface ApiRequest {
  readonly method: string;
  /** The path without its `/vX.Y` prefix. */
  readonly path: string;
  /** The API version the client asked for in the path, if it did. */
  readonly version: string | undefined;
  /** The route's pattern (`/containers/{id}/start`), as logs and metrics name it. */
  readonly route: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Query;
  readonly headers: IncomingHttpHeaders;
  /** The body as JSON (undefined when empty), read up to the server's cap; unknown until validated. */
  json(): Promise<unknown>;
  /** The body as bytes, for the routes that take an archive (`PUT /containers/{id}/archive`). */
  readonly body: Readable;
  /** Aborted when the client goes away before the reply is written in full: streams and hijacks stop on it. */
  readonly signal: AbortSignal;
}

export type Headers = Readonly<Record<string, string>>;

export type Reply =
  | { readonly type: 'json'; readonly status: number; readonly value: unknown; readonly headers?: Headers }
  | { readonly type: 'bytes'; readonly status: number; readonly body: Uint8Array | string; readonly contentType: string; readonly headers?: Headers }
  | { readonly type: 'empty'; readonly status: number; readonly headers?: Headers }
  | {
      readonly type: 'stream';
      readonly status: number;
      readonly contentType: string;
      /** Iterated chunk by chunk as the client takes them; return() is called when the client goes away. */
      readonly source: AsyncIterable<Uint8Array | string>;
      readonly headers?: Headers;
    }
  | {
      readonly type: 'hijack';
      /** application/vnd.docker.multiplexed-stream without a terminal, application/vnd.docker.raw-stream with one. */
      readonly contentType: string;
      /** Runs with the connection once the head is written; the server closes it when this settles. */
      readonly run: (conn: Duplex) => Promise<void>;
    };

export type Handler = (req: ApiRequest) => Promise<Reply> | Reply;

export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export const json = (value: unknown, status = 200, headers?: Headers): Reply =>
  headers === undefined ? { type: 'json', status, value } : { type: 'json', status, value, headers };

export const bytes = (body: Uint8Array | string, contentType: string, status = 200): Reply => ({ type: 'bytes', status, body, contentType });

export const noContent = (status = 204): Reply => ({ type: 'empty', status });

export const stream = (source: AsyncIterable<Uint8Array | string>, contentType = 'application/json', status = 200): Reply => ({
  type: 'stream',
  status,
  contentType,
  source,
});

export const hijack = (contentType: string, run: (conn: Duplex) => Promise<void>): Reply => ({ type: 'hijack', contentType, run });
