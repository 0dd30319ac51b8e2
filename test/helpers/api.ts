/** An ApiServer on a socket in a temporary directory, closed after the test; and raw HTTP on a unix socket. */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ApiClient } from '../../src/api/client.ts';
import { ApiServer, type ApiServerOptions } from '../../src/api/server.ts';
import { onCleanup, tempDir } from './cleanup.ts';

export async function startApiServer(t: TestContext, setup: (s: ApiServer) => void, options: ApiServerOptions = {}): Promise<{ server: ApiServer; socket: string; client: ApiClient }> {
  const dir = tempDir(t, 'berth-api-');
  const server = new ApiServer(options);
  setup(server);
  const socket = join(dir, 'api.sock');
  await server.listen(socket);
  onCleanup(t, () => server.close(1_000));
  return { server, socket, client: new ApiClient(socket) };
}

/** A connection that writes `request` as is and collects what comes back. */
export function rawConnection(socket: string, request: string | Buffer): { sock: Socket; received: () => Buffer; ended: Promise<void> } {
  const sock = connect(socket);
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => sock.once('end', resolve).once('close', () => resolve()));
  sock.write(request);
  return { sock, received: () => Buffer.concat(chunks), ended };
}

/** Resolves when `check` holds; fails after `ms` naming what was awaited. */
export async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
