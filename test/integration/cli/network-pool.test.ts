/**
 * The pool of network sandboxes takes back the sandbox of a container that
 * is gone when nothing of the container can be left in it (SandboxPool
 * giveBack): the next container gets the very namespace and address, no
 * CNI plugin running for either. A namespace with a socket still in it (a
 * TIME_WAIT of a served connection), or one a container could change
 * (--cap-add NET_ADMIN), is released instead. Through a real berthd with
 * a pool of one; what a container sees is asked inside it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ networkPool: 1 });
});
after(async () => {
  await d?.stop();
});

const netnsFiles = (): string[] => (existsSync(join(d.runRoot, 'netns')) ? readdirSync(join(d.runRoot, 'netns')).sort() : []);

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 50))) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Runs a container until it is up, returns its id and its namespace file; `rm -f` ends it. */
async function running(args: readonly string[]): Promise<{ id: string; netns: string; ip: string }> {
  const id = (await d.ok(['run', '-d', ...args])).trim();
  const netns = (await d.ok(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', id])).trim();
  const ip = (await d.ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', id])).trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  return { id, netns: netns.slice(netns.lastIndexOf('/') + 1), ip };
}

test('a gone container that left no socket gives its namespace back: the next container gets the same one and the same address', async () => {
  await until('the pool to fill', () => (netnsFiles().length === 1 ? true : undefined));
  const first = await running(['busybox', 'sleep', '1000']);
  await until('the refill', () => (netnsFiles().length === 2 ? true : undefined));
  await d.ok(['rm', '-f', first.id]);
  assert.ok(netnsFiles().includes(first.netns), 'its namespace is kept, in the pool');
  assert.equal(netnsFiles().length, 2, 'the pool holds it beside the refilled one');
  // The pool serves the oldest first: the refilled one, then the given-back one.
  const second = await running(['busybox', 'sleep', '1000']);
  const third = await running(['busybox', 'sleep', '1000']);
  const reused = [second, third].find((c) => c.netns === first.netns);
  assert.ok(reused !== undefined, `one of the next containers runs in ${first.netns}`);
  assert.equal(reused.ip, first.ip, 'with the same address');
  const inside = await d.ok(['exec', reused.id, 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
  assert.match(inside, new RegExp(`inet ${first.ip.replace(/\./g, '\\.')}/`), inside);
  // berthd's debug log says where each start's time went, phase by phase, the network's among them.
  const started = d
    .log()
    .split('\n')
    .filter((l) => l.includes('"container started"'))
    .map((l) => JSON.parse(l) as { id: string; ms: Record<string, number> })
    .find((l) => l.id === reused.id);
  assert.ok(started !== undefined, 'a "container started" line for the container');
  assert.deepEqual(Object.keys(started.ms), ['rootfs and run dir', 'network', 'monitor and runtime create', 'runtime start']);
  const marks = Object.values(started.ms);
  assert.deepEqual([...marks].sort((a, b) => a - b), marks, 'each phase ends after the one before');
  await d.ok(['rm', '-f', second.id, third.id]);
});

test('a namespace with a socket left in it (a served connection\'s TIME_WAIT) is released, not reused', async () => {
  const server = await running(['-p', '127.0.0.1::80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  // Published ports alone keep it from the pool; ask the container's address directly, so the socket is the reason.
  const plain = await running(['busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  const body = await until('the server to answer', () => fetch(`http://${plain.ip}/hostname`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text(), () => undefined));
  assert.equal(body.trim(), plain.id.slice(0, 12));
  await d.ok(['rm', '-f', server.id, plain.id]);
  assert.equal(netnsFiles().includes(plain.netns), false, 'the served one is released');
  assert.equal(netnsFiles().includes(server.netns), false, 'the one with a published port is released');
});

test('a container with --cap-add NET_ADMIN could change its namespace: it is released, not reused', async () => {
  const admin = await running(['--cap-add', 'NET_ADMIN', 'busybox', 'sleep', '1000']);
  await d.ok(['exec', admin.id, 'ip', 'addr', 'add', '10.99.99.99/32', 'dev', 'lo']);
  await d.ok(['rm', '-f', admin.id]);
  assert.equal(netnsFiles().includes(admin.netns), false);
  const next = await running(['busybox', 'sleep', '1000']);
  const addrs = await d.ok(['exec', next.id, 'ip', '-o', 'addr']);
  assert.doesNotMatch(addrs, /10\.99\.99\.99/, 'no container sees what another one made');
  await d.ok(['rm', '-f', next.id]);
});
