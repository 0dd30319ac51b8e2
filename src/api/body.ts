/**
 * Request bodies: read up to a cap (a body over it is refused before it is
 * read in full, not buffered without end), and JSON parsed as `unknown`
 * for the handler to validate. An upgraded request's body (exec start
 * sends its options with the upgrade) is cut from the socket's first bytes
 * by Content-Length; what follows it is the client's stream.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { describeError, invalidArgument } from '../errors.ts';

/** dockerd reads JSON bodies whole too; container create bodies are a few KiB. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

function tooLarge(cap: number): never {
  throw invalidArgument('api_body_too_large', `request body: larger than ${cap} bytes`);
}

/** The declared Content-Length, refused when over the cap; undefined when none is declared. */
export function declaredLength(header: string | undefined, cap: number): number | undefined {
  if (header === undefined) return undefined;
  if (!/^\d+$/.test(header)) throw invalidArgument('api_body_invalid', `request body: Content-Length "${header}" is not a number`);
  const n = Number(header);
  if (n > cap) tooLarge(cap);
  return n;
}

export async function readBody(stream: Readable, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) tooLarge(cap);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The body as JSON: undefined when empty; any Content-Type but JSON's is refused, as dockerd does. */
export function parseJsonBody(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== undefined && type !== '' && type !== 'application/json' && !type.endsWith('+json')) {
    throw invalidArgument('api_body_invalid', `request body: Content-Type "${contentType}" is not application/json`);
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw invalidArgument('api_body_invalid', `request body: not JSON (${describeError(err)})`);
  }
}

/** Reads `length` body bytes of an upgraded request (from `head`, then the socket); the rest goes back to the socket. */
export async function readUpgradeBody(socket: Socket, head: Buffer, length: number): Promise<Buffer> {
  let have = head;
  if (have.length < length) {
    const chunks: Buffer[] = [head];
    let size = head.length;
    await new Promise<void>((resolve, reject) => {
      const stop = (): void => {
        socket.off('data', onData).off('end', onEnd).off('error', onEnd).off('close', onEnd);
        socket.pause();
      };
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        size += chunk.length;
        if (size < length) return;
        stop();
        resolve();
      };
      const onEnd = (): void => {
        stop();
        reject(invalidArgument('api_body_invalid', `request body: connection closed after ${size} of ${length} bytes`));
      };
      socket.on('data', onData).on('end', onEnd).on('error', onEnd).on('close', onEnd);
      socket.resume();
    });
    have = Buffer.concat(chunks, size);
  }
  const rest = have.subarray(length);
  if (rest.length > 0) socket.unshift(rest);
  return have.subarray(0, length);
}
