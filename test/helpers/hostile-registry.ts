/**
 * A registry stand-in on loopback (port 0) for hostile-input tests: each
 * path answers as the test says (too much, too slowly, never), and the
 * server records which paths were asked for and which answers the client
 * cut off before they were complete.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { MediaType } from '../../src/oci/image-spec.ts';
import { digestOf } from '../../src/image/store/digest.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HostileRegistry {
  host: string;
  hits: Map<string, number>;
  /** Paths whose answer the client closed before the server had finished it. */
  cutOff: Set<string>;
}

export async function hostileRegistry(t: TestContext, routes: Record<string, Handler>): Promise<HostileRegistry> {
  const hits = new Map<string, number>();
  const cutOff = new Set<string>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    res.once('close', () => {
      if (!res.writableFinished) cutOff.add(path);
    });
    const route = routes[path];
    if (route !== undefined) route(req, res);
    else res.writeHead(path === '/v2/' ? 200 : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address();
  return { host: `127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, hits, cutOff };
}

/**
 * Sends `data`, then the same bytes again and again while the client reads,
 * up to `max` bytes (far more than any limit under test, yet bounded so that
 * a client without limits fails its test instead of exhausting memory).
 */
export function flood(res: ServerResponse, data: Buffer, max = 64 * 1024 * 1024): void {
  let sent = 0;
  const more = (): void => {
    while (!res.destroyed && sent < max) {
      sent += data.length;
      if (!res.write(data)) return;
    }
    if (!res.destroyed) res.end();
  };
  res.on('drain', more);
  more();
}

/** Answers with a body of `data` then stalls: the answer never ends and nothing more comes. */
export function stall(res: ServerResponse, data: Buffer): void {
  res.write(data);
}

/** Sends one byte of `data` at a time every few milliseconds until done or cut off. */
export function trickle(res: ServerResponse, data: Buffer): void {
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed || i >= data.length) {
      clearInterval(timer);
      if (!res.destroyed) res.end();
      return;
    }
    res.write(data.subarray(i, ++i));
  }, 10);
  res.once('close', () => clearInterval(timer));
}

export interface TestImage {
  manifest: Buffer;
  config: Buffer;
  layer: Buffer;
  configPath: string;
  layerPath: string;
  manifestPath: string;
}

/** A one-layer image of repository `app`, tag v1, with the paths its parts are fetched from. */
export function testImage(options: { configSize?: number; layer?: Buffer } = {}): TestImage {
  const layer = options.layer ?? Buffer.alloc(4096, 7);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: options.configSize ?? config.length },
      layers: [{ mediaType: MediaType.OciLayer, digest: digestOf(layer), size: layer.length }],
    }),
  );
  return {
    manifest,
    config,
    layer,
    manifestPath: '/v2/app/manifests/v1',
    configPath: `/v2/app/blobs/${digestOf(config)}`,
    layerPath: `/v2/app/blobs/${digestOf(layer)}`,
  };
}

/** Answers with `body` whole, as a registry does. */
export function answer(body: Buffer, contentType = 'application/octet-stream'): Handler {
  return (_req, res) => res.writeHead(200, { 'content-type': contentType, 'content-length': String(body.length) }).end(body);
}
