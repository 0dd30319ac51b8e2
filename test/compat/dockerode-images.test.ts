/**
 * dockerode (the Docker SDK for Node.js, from npm) against berthd's image
 * routes: tag and push to a loopback registry, pull with progress events
 * (followProgress), list with a reference filter, inspect, history and
 * remove; a pull whose layer is corrupt in the registry fails in the stream
 * with Docker's errorDetail and leaves nothing in the store; a client that
 * goes away while a layer is on its way leaves nothing half made: the image
 * appears only once it is whole; a client that leaves a build cancels it:
 * its RUN container is stopped and no image is recorded. As root.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { request, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { startDaemon, until, type TestDaemon } from '../helpers/daemon.ts';
import { startRegistry, type RegistryServer } from '../helpers/registry.ts';

/** The part of dockerode's API these tests use (it ships no types; no @types package is added for four calls). */
interface DockerImage {
  inspect(): Promise<Record<string, unknown>>;
  history(): Promise<Record<string, unknown>[]>;
  remove(opts?: Record<string, unknown>): Promise<Record<string, string>[]>;
  tag(opts: { repo: string; tag: string }): Promise<unknown>;
  push(opts: { tag: string }): Promise<Readable>;
}
interface Dockerode {
  pull(name: string): Promise<Readable>;
  getImage(name: string): DockerImage;
  listImages(opts?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  modem: { followProgress(s: Readable, done: (err: Error | null, out: Record<string, unknown>[]) => void, each?: (e: Record<string, unknown>) => void): void };
}
type DockerodeClass = new (opts: { socketPath: string }) => Dockerode;
const Docker = createRequire(import.meta.url)('dockerode') as DockerodeClass;

let d: TestDaemon;
let reg: RegistryServer;
let docker: Dockerode;
before(async () => {
  reg = await startRegistry();
  d = await startDaemon();
  docker = new Docker({ socketPath: d.socket });
});
after(async () => {
  await d?.stop();
  await reg?.stop();
});

function follow(s: Readable): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => docker.modem.followProgress(s, (err, out) => (err === null ? resolve(out) : reject(err))));
}

interface Manifest {
  layers: { digest: string; size: number }[];
}

async function registryManifest(repo: string, tag: string): Promise<Manifest> {
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as Manifest;
}

function blobFile(digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(reg.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

async function statusOf(path: string): Promise<number> {
  const res = await d.client.request('GET', path);
  return res.status;
}

test('dockerode: push, pull with progress events, list, inspect, history and remove', async () => {
  const remote = `${reg.host}/lib/busybox`;
  const busybox = docker.getImage('busybox');
  const id = (await busybox.inspect())['Id'] as string;
  await busybox.tag({ repo: remote, tag: '1' });
  const pushed = await follow(await docker.getImage(remote).push({ tag: '1' }));
  const aux = pushed.find((e) => e['aux'] !== undefined)?.['aux'] as { Tag: string; Digest: string } | undefined;
  assert.equal(aux?.Tag, '1', JSON.stringify(pushed));
  const manifest = await registryManifest('lib/busybox', '1');
  assert.ok(pushed.some((e) => e['status'] === 'Pushed' && e['id'] === manifest.layers[0]!.digest.slice(7, 19)));

  // Gone from the store entirely, so the pull below moves every layer.
  const removed = await docker.getImage(id).remove({ force: true });
  assert.deepEqual(removed.at(-1), { Deleted: id });
  assert.equal(await statusOf(`/images/${id}/json`), 404);

  const events: Record<string, unknown>[] = [];
  const out = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
    void docker.pull(`${remote}:1`).then(
      (s) => docker.modem.followProgress(s, (err, o) => (err === null ? resolve(o) : reject(err)), (e) => events.push(e)),
      reject,
    );
  });
  assert.equal(out.length, events.length);
  assert.deepEqual(events[0], { status: 'Pulling from lib/busybox', id: '1' });
  const layer = manifest.layers[0]!;
  const short = layer.digest.slice(7, 19);
  const downloading = events.filter((e) => e['status'] === 'Downloading' && e['id'] === short);
  assert.ok(downloading.length > 0, JSON.stringify(events));
  const last = downloading.at(-1)!['progressDetail'] as { current: number; total: number };
  assert.deepEqual(last, { current: layer.size, total: layer.size });
  assert.ok(events.some((e) => e['status'] === 'Pull complete' && e['id'] === short));
  assert.equal(events.at(-1)!['status'], `Status: Downloaded newer image for ${remote}:1`);
  assert.ok(events.some((e) => e['status'] === `Digest: ${aux?.Digest}`));
  assert.equal(events.some((e) => e['error'] !== undefined), false);

  const listed = await docker.listImages({ filters: { reference: [remote] } });
  assert.equal(listed.length, 1);
  assert.equal(listed[0]!['Id'], id);
  assert.deepEqual(listed[0]!['RepoTags'], [`${remote}:1`]);
  const inspect = await docker.getImage(`${remote}:1`).inspect();
  assert.equal(inspect['Id'], id);
  assert.deepEqual(inspect['RepoDigests'], [`${remote}@${aux?.Digest}`]);
  assert.deepEqual((inspect['RootFS'] as { Layers: string[] }).Layers.length, manifest.layers.length);
  const history = await docker.getImage(`${remote}:1`).history();
  assert.equal(history[0]!['Id'], id);
  assert.deepEqual(history[0]!['Tags'], [`${remote}:1`]);

  const gone = await docker.getImage(`${remote}:1`).remove();
  assert.deepEqual(gone, [{ Untagged: `${remote}:1` }, { Deleted: id }]);
  await assert.rejects(docker.getImage(`${remote}:1`).inspect(), (err: { statusCode?: number; json?: { message?: string } }) => {
    assert.equal(err.statusCode, 404);
    assert.match(err.json?.message ?? '', /not in the store/);
    return true;
  });
});

test('a pull whose layer is corrupt fails in the stream with errorDetail and records nothing', async () => {
  const remote = `${reg.host}/lib/busybox`;
  const layer = (await registryManifest('lib/busybox', '1')).layers[0]!;
  const file = blobFile(layer.digest);
  const good = readFileSync(file);
  writeFileSync(file, Buffer.alloc(good.length, 0x41));
  try {
    const out = await follow(await docker.pull(`${remote}:1`));
    assert.deepEqual(out[0], { status: 'Pulling from lib/busybox', id: '1' }, 'the failure comes after the stream began');
    const last = out.at(-1)!;
    assert.match(String(last['error']), /digest|sha256/i, JSON.stringify(out));
    assert.deepEqual(last['errorDetail'], { message: last['error'] });
    assert.equal(await statusOf(`/images/${encodeURIComponent(remote)}:1/json`), 404);
  } finally {
    writeFileSync(file, good);
  }
});

/** A proxy in front of the registry that holds GETs of one blob until released. */
async function gatedProxy(target: string, digest: string): Promise<{ host: string; held: Promise<void>; release: () => void; close: () => Promise<void> }> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const up = request({ host: targetHost, port: Number(targetPort), path: req.url, method: req.method, headers: { ...req.headers, host: target } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url ?? '').includes(`/blobs/${digest}`)) {
      onHeld();
      void released.then(() => forward(req, res));
    } else forward(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('no address');
  return {
    host: `127.0.0.1:${addr.port}`,
    held,
    release,
    close: () => new Promise((r) => {
      release();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

test('a client that leaves mid-pull leaves nothing half made: the image appears only whole', async () => {
  const layer = (await registryManifest('lib/busybox', '1')).layers[0]!;
  const proxy = await gatedProxy(reg.host, layer.digest);
  try {
    const name = `${proxy.host}/lib/busybox:1`;
    const seen = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(`${proxy.host}/lib/busybox`)}&tag=1` }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('Pulling fs layer')) {
            void proxy.held.then(() => {
              req.destroy();
              resolve(text);
            });
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    assert.match(seen, /Pulling from lib\/busybox/);
    // The layer is held at the registry: nothing of the image is visible.
    assert.equal(await statusOf(`/images/${name}/json`), 404);
    proxy.release();
    // The daemon finishes the pull the client left (as podman's service does); the image is recorded whole.
    await until('the pull to finish', async () => ((await statusOf(`/images/${name}/json`)) === 200 ? true : undefined));
    assert.equal(await d.ok(['run', '--rm', name, 'echo', 'ran']), 'ran\n');
    const blob = join(d.root, 'blobs', 'sha256', layer.digest.slice(7));
    assert.equal(statSync(blob).size, layer.size);
  } finally {
    await proxy.close();
  }
});

test('a client that leaves a build cancels it: the RUN container is stopped and no image is recorded', async () => {
  const ctx = join(d.scratch, 'slow');
  mkdirSync(ctx);
  // The base comes from the registry (the first test pushed it): the build pulls it.
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${reg.host}/lib/busybox:1\nRUN echo started; sleep 600\n`);
  const tar = execFileSync('tar', ['-C', ctx, '-c', 'Dockerfile']);
  const before = (await docker.listImages()).length;
  const seen = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: '/build?t=slow%3Av1', headers: { 'content-type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        // The RUN's own output: its container is running.
        if (text.includes('{"stream":"started\\n"}')) {
          req.destroy();
          resolve(text);
        }
      });
      res.on('error', () => undefined);
      res.on('end', () => reject(new Error(`the build ended before its RUN started: ${text}`)));
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end(tar);
  });
  const runtime = join(d.root, 'build', 'runtime');
  try {
    assert.match(seen, /Step 2\/2 : RUN echo started; sleep 600/);
    assert.ok(seen.includes(`{"status":"Pulling ${reg.host}/lib/busybox:1"}`) && seen.includes('{"status":"Pulling from lib/busybox","id":"1"}'), `the base was pulled: ${seen}`);
  } finally {
    // The RUN container (its state under the build's runtime root) and the step's snapshot go with the cancelled build.
    const empty = (dir: string): boolean => !existsSync(dir) || readdirSync(dir).length === 0;
    await until('the cancelled build to clean up', () => (empty(runtime) && empty(join(d.root, 'build', 'work')) ? true : undefined), 30_000);
  }
  assert.equal(await statusOf('/images/slow:v1/json'), 404);
  assert.equal((await docker.listImages()).length, before);
});
