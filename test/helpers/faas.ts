/**
 * For the functions gateway's tests: an echo function image (busybox httpd
 * on :8080 with a CGI script that writes back the method, path, query, a
 * header and the body it was given), and a client of the gateway's API
 * with its basic-auth credentials read from the daemon's root.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { importImage } from '../../src/image/copy/import.ts';
import type { ImageStore } from '../../src/image/store/store.ts';
import { BUSYBOX_ENV } from './engine.ts';
import { makeRootfs, REPO } from './runtime.ts';

export const ECHO_IMAGE = 'faas-echo:latest';

const ECHO_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\nX-Echo: yes\\r\\n\\r\\n'
echo "method=$REQUEST_METHOD"
echo "uri=$REQUEST_URI"
echo "query=$QUERY_STRING"
echo "header=$HTTP_X_TEST"
echo "callid=$HTTP_X_CALL_ID"
echo "host=$(hostname)"
printf 'body='
if [ -n "$CONTENT_LENGTH" ]; then head -c "$CONTENT_LENGTH"; fi
echo
`;

/** Imports `faas-echo:latest`: `httpd -f -p 8080 -h /www` serving /www/cgi-bin/echo and /www/index.html ("hello"). */
export async function importEchoImage(images: ImageStore, scratch: string): Promise<void> {
  await importCgiImage(images, scratch, ECHO_IMAGE, { echo: ECHO_CGI }, { 'index.html': 'hello\n' });
}

/** busybox httpd on :8080 serving /www, with each of `scripts` an executable /www/cgi-bin/NAME and `files` under /www, imported as `image`. */
export async function importCgiImage(images: ImageStore, scratch: string, image: string, scripts: Record<string, string>, files: Record<string, string> = {}): Promise<void> {
  const rootfs = makeRootfs(scratch);
  mkdirSync(join(rootfs, 'www', 'cgi-bin'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(rootfs, 'www', name), text);
  for (const [name, script] of Object.entries(scripts)) {
    writeFileSync(join(rootfs, 'www', 'cgi-bin', name), script);
    chmodSync(join(rootfs, 'www', 'cgi-bin', name), 0o755);
  }
  await importImage(images, rootfs, { names: [image], config: { Cmd: ['httpd', '-f', '-p', '8080', '-h', '/www'], Env: [BUSYBOX_ENV] } });
}

/** A `prepare` for startDaemon: busybox with an executable script at /NAME, imported as `image` (the script is the function's envProcess). */
export function scriptImage(image: string, file: string, script: string): (images: ImageStore, scratch: string) => Promise<void> {
  return async (images, scratch) => {
    const rootfs = makeRootfs(scratch);
    writeFileSync(join(rootfs, file), script);
    chmodSync(join(rootfs, file), 0o755);
    await importImage(images, rootfs, { names: [image], config: { Cmd: ['sh'], Env: [BUSYBOX_ENV] } });
  };
}

export interface GatewayClient {
  base: string;
  auth: string;
  /** A request to the gateway; `auth: false` sends none, a string sends that header. */
  fetch(path: string, init?: RequestInit & { auth?: boolean | string }): Promise<Response>;
  /** JSON of a `/system/*` GET, failing on a status other than 200. */
  get(path: string): Promise<unknown>;
  deploy(body: unknown, method?: 'POST' | 'PUT'): Promise<Response>;
}

export function gatewayClient(base: string, root: string): GatewayClient {
  const user = readFileSync(join(root, 'secrets', 'basic-auth-user'), 'utf8').trim();
  const password = readFileSync(join(root, 'secrets', 'basic-auth-password'), 'utf8').trim();
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const f: GatewayClient['fetch'] = (path, init = {}) => {
    const { auth: a = true, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (a === true) headers.set('Authorization', auth);
    else if (typeof a === 'string') headers.set('Authorization', a);
    return fetch(`${base}${path}`, { ...rest, headers });
  };
  return {
    base,
    auth,
    fetch: f,
    async get(path) {
      const r = await f(path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
      return r.json();
    },
    deploy: (body, method = 'POST') => f('/system/functions', { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  };
}

/**
 * Imports `node-base:latest` as scripts/make-base-images.sh makes it (the
 * host's Node.js at /usr/local/bin/node with the libraries it links), over
 * busybox, straight into a store that is not open elsewhere.
 */
export async function importNodeBase(images: ImageStore, scratch: string): Promise<void> {
  const rootfs = makeRootfs(scratch);
  const node = realpathSync(join(REPO, 'build', 'node'));
  mkdirSync(join(rootfs, 'usr', 'local', 'bin'), { recursive: true });
  cpSync(node, join(rootfs, 'usr', 'local', 'bin', 'node'));
  for (const lib of execFileSync('ldd', [node], { encoding: 'utf8' }).match(/\/[^ \n]+/g) ?? []) {
    mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
    cpSync(realpathSync(lib), join(rootfs, lib));
  }
  await importImage(images, rootfs, { names: ['node-base:latest'], config: { Cmd: ['node'], Env: ['PATH=/usr/local/bin:/usr/bin:/bin'] } });
}
