/**
 * Functions run by berth's watchdog in a real berthd (as root): plain
 * busybox plus an envProcess is a function. The replica's process is the
 * watchdog bind-mounted read-only; it forks envProcess per request with the
 * body on stdin and the CGI-style variables, its envVars (exec_timeout,
 * max_inflight) come from the deployment, and a function scaled to zero
 * starts cold through it. An image whose Env names fprocess (as OpenFaaS's images do)
 * runs under the watchdog without an envProcess.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { BUSYBOX_ENV } from '../../helpers/engine.ts';
import { gatewayClient, type GatewayClient } from '../../helpers/faas.ts';
import { makeRootfs, REPO } from '../../helpers/runtime.ts';
import { importImage } from '../../../src/image/copy/import.ts';

/** Busybox whose config names its function as OpenFaaS's images do: Env fprocess, and a Cmd that serves nothing. */
const FPROCESS_IMAGE = 'faas-fprocess:latest';

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  d = await startDaemon({
    gateway: true,
    prepare: async (images, scratch) => {
      await importImage(images, makeRootfs(scratch), { names: [FPROCESS_IMAGE], config: { Cmd: ['sh'], Env: [BUSYBOX_ENV, 'fprocess=wc -c'] } });
    },
  });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  await d?.stop();
});

interface Status {
  replicas: number;
  availableReplicas: number;
}

const status = async (fn: string): Promise<Status> => (await gw.get(`/system/function/${fn}`)) as Status;

async function replicaIds(fn: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return ((await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as { Id: string }[]).map((c) => c.Id);
}

async function replicaStates(fn: string): Promise<{ Id: string; State: string }[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return ((await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as { Id: string; State: string }[]).map((c) => ({ Id: c.Id, State: c.State }));
}

/** berth-runtime's `state` of a container of the daemon's runtime root (runtime-spec JSON). */
async function runtimeState(id: string): Promise<string> {
  const r = await runCommand(join(REPO, 'bin', 'berth-runtime'), ['--root', join(d.runRoot, 'runtime'), 'state', id]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function deploy(name: string, extra: Record<string, unknown>): Promise<void> {
  const r = await gw.deploy({ service: name, image: 'busybox:latest', ...extra });
  assert.equal(r.status, 202, await r.text());
  await until(`function ${name} to be ready`, async () => ((await status(name)).availableReplicas === 1 ? true : undefined), 60_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\n--- berthd's log\n${d.log().split('\n').slice(-15).join('\n')}`);
  });
}

async function invoke(fn: string, body?: string, path = ''): Promise<{ status: number; text: string }> {
  const r = await gw.fetch(`/function/${fn}${path}`, { auth: false, method: 'POST', ...(body === undefined ? {} : { body }), headers: { 'X-Test': 'yes' } });
  return { status: r.status, text: await r.text() };
}

async function remove(fn: string): Promise<void> {
  const r = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: fn }) });
  assert.equal(r.status, 200, await r.text());
}

test('busybox with envProcess "wc -c" and "cat": the watchdog (pid 1, mounted read-only) forks it per request, body on stdin', async () => {
  await deploy('wc', { envProcess: 'wc -c' });
  await deploy('cat', { envProcess: 'cat', readOnlyRootFilesystem: true });
  try {
    for (const n of [0, 1, 5000]) {
      const r = await invoke('wc', 'x'.repeat(n));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text.trim(), String(n));
    }
    const echo = await invoke('cat', 'hello through the watchdog\n');
    assert.equal(echo.status, 200, echo.text);
    assert.equal(echo.text, 'hello through the watchdog\n');
    const [id] = await replicaIds('cat');
    assert.ok(id !== undefined);
    const pid1 = await d.ok(['exec', id, 'cat', '/proc/1/cmdline']);
    assert.equal(pid1.replace(/\0/g, ' ').trim(), '/.berth/watchdog');
    const mounts = await d.ok(['exec', id, 'cat', '/proc/self/mountinfo']);
    const wd = mounts.split('\n').find((l) => l.split(' ')[4] === '/.berth/watchdog');
    assert.ok(wd !== undefined, mounts);
    assert.match(wd.split(' ')[5] ?? '', /(^|,)ro(,|$)/, 'the watchdog is mounted read-only');
    // The root is read-only, /tmp a tmpfs: the watchdog's lock file is there.
    assert.equal((await d.ok(['exec', id, 'sh', '-c', 'test -f /tmp/.lock && echo locked'])).trim(), 'locked');
    assert.notEqual((await d.berth(['exec', id, 'touch', '/root-is-writable'])).code, 0);
  } finally {
    await remove('wc');
    await remove('cat');
  }
});

test('the process sees the CGI-style variables: Http_Method, Http_Path, Http_Query, Http_X_Call_Id, one per header', async () => {
  await deploy('env', { envProcess: 'env' });
  try {
    const r = await gw.fetch('/function/env/some/path?q=1', { auth: false, method: 'PUT', body: 'x', headers: { 'X-Test': 'yes' } });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    const vars = new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(vars.get('Http_Method'), 'PUT');
    assert.equal(vars.get('Http_Path'), '/some/path');
    assert.equal(vars.get('Http_Query'), 'q=1');
    assert.equal(vars.get('Http_X_Test'), 'yes');
    assert.equal(vars.get('Http_X_Call_Id'), r.headers.get('x-call-id'), 'the gateway\'s call id reaches the process');
    assert.match(vars.get('Http_X_Call_Id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(vars.get('fprocess'), 'env');
  } finally {
    await remove('env');
  }
});

test('exec_timeout from envVars: a process running past it is killed and the watchdog\'s 504 comes back through the gateway', async () => {
  await deploy('slow', { envProcess: 'sleep 5', envVars: { exec_timeout: '1s' } });
  try {
    const r = await invoke('slow', 'x');
    assert.equal(r.status, 504, r.text);
    const quick = await invoke('slow', 'x');
    assert.equal(quick.status, 504, 'the next call is served too (and timed out the same way)');
  } finally {
    await remove('slow');
  }
});

test('scale to zero, then a cold start through the watchdog serves the first request', async () => {
  await deploy('coldwc', { envProcess: 'wc -c', labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '2s' } });
  try {
    // At zero no replica runs; one is kept prepared (created, never started) for the next request.
    const prepared = await until('coldwc to scale to zero', async () => {
      const cs = await replicaStates('coldwc');
      return (await status('coldwc')).replicas === 0 && cs.length === 1 && cs[0]!.State === 'created' ? cs[0]!.Id : undefined;
    }, 60_000);
    // ...and primed: its monitor up, the runtime's state created (its process waits before execve).
    const rd = join(d.runRoot, 'containers', prepared);
    await until('the prepared replica to be primed', () => (existsSync(join(rd, 'primed')) ? true : undefined), 20_000);
    const monitor = Number(readFileSync(join(rd, 'monitor.pid'), 'utf8'));
    assert.ok(readFileSync(`/proc/${monitor}/cmdline`, 'latin1').split('\0')[0]!.endsWith('berth-monitor'), 'its monitor runs');
    const state = JSON.parse(await runtimeState(prepared)) as { status: string; pid: number };
    assert.equal(state.status, 'created');
    assert.ok(existsSync(`/proc/${state.pid}`), 'its process waits');
    const r = await invoke('coldwc', 'twelve bytes');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text.trim(), '12');
    assert.equal((await status('coldwc')).replicas, 1);
    assert.deepEqual(await replicaStates('coldwc'), [{ Id: prepared, State: 'running' }], 'the prepared replica is the one that served');
  } finally {
    await remove('coldwc');
  }
});

test("an image whose Env names fprocess runs it under the watchdog, with no envProcess in the deployment", async () => {
  await deploy('imagefp', { image: FPROCESS_IMAGE });
  try {
    const r = await invoke('imagefp', 'seven b');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text.trim(), '7');
  } finally {
    await remove('imagefp');
  }
});

test('max_inflight from envVars: a call beyond it gets the watchdog\'s 429 through the gateway while the first runs', async () => {
  await deploy('single', { envProcess: 'sleep 3', envVars: { max_inflight: '1' } });
  try {
    const first = invoke('single', 'x');
    // The second is sent once the first's process runs in the replica, not on a timer.
    const [id] = await replicaIds('single');
    assert.ok(id !== undefined);
    await until('the first call to be running', async () => ((await d.ok(['exec', id, 'sh', '-c', 'cat /proc/[0-9]*/comm'])).split('\n').includes('sleep') ? true : undefined), 10_000);
    const second = await invoke('single', 'y');
    assert.equal(second.status, 429, second.text);
    assert.equal((await first).status, 200);
  } finally {
    await remove('single');
  }
});
