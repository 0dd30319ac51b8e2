/**
 * 1,000 functions deployed and idle at zero replicas, in a real berthd (as
 * root): deployed through the REST API (com.openfaas.scale.zero=true with
 * com.openfaas.scale.min=0 deploys at zero: no container is made), listed
 * all back from the records alone, one of them invoked (a cold start from
 * zero among 1,000), and berthd's resident memory (VmRSS) measured before
 * and after and printed. Requests for names no function has leave nothing
 * behind (the memory stays bounded by the functions deployed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { ECHO_IMAGE, gatewayClient, importEchoImage, type GatewayClient } from '../../helpers/faas.ts';

const COUNT = 1000;
/** Deploys in flight at once: bounded, so the test's time is too. */
const BATCH = 25;

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  // info: a debug line per request would measure the logger, not the functions.
  d = await startDaemon({ gateway: true, prepare: importEchoImage, logLevel: 'info' });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  await d?.stop();
});

/** berthd's resident memory in KiB (/proc/PID/status VmRSS). */
function rssKiB(): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'));
  assert.ok(m !== null, 'VmRSS in /proc/PID/status');
  return Number(m[1]);
}

async function containers(): Promise<unknown[]> {
  return (await d.client.json('GET', '/containers/json', { query: { all: true } })) as unknown[];
}

const nameOf = (i: number): string => `idle-${String(i).padStart(4, '0')}`;

async function inBatches(n: number, each: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: BATCH }, async () => {
    while (next < n) await each(next++);
  }));
}

test('1,000 functions deployed and idle at zero replicas: listed from their records, one invoked from zero, berthd\'s memory measured', async (t) => {
  // Warm the paths first (a deploy, a list, a delete), so the baseline is not the first use of the code.
  assert.equal((await gw.deploy({ service: 'warmup', image: ECHO_IMAGE, labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.min': '0' } })).status, 202);
  // Deployed at zero (else stop here, before making 1,000 containers).
  assert.equal(((await gw.get('/system/function/warmup')) as { replicas: number }).replicas, 0);
  await gw.get('/system/functions');
  assert.equal((await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'warmup' }) })).status, 200);
  const rssBefore = rssKiB();

  const started = performance.now();
  await inBatches(COUNT, async (i) => {
    const r = await gw.deploy({ service: nameOf(i), image: ECHO_IMAGE, labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.min': '0', index: String(i) } });
    assert.equal(r.status, 202, `${nameOf(i)}: ${await r.text()}`);
  });
  const deployMs = performance.now() - started;
  assert.deepEqual(await containers(), [], 'deployed at zero: no container was made');

  const listStart = performance.now();
  const list = (await gw.get('/system/functions')) as { name: string; replicas: number; availableReplicas: number; labels: Record<string, string> }[];
  const listMs = performance.now() - listStart;
  assert.equal(list.length, COUNT);
  assert.deepEqual(list.map((f) => f.name), Array.from({ length: COUNT }, (_, i) => nameOf(i)));
  assert.ok(list.every((f) => f.replicas === 0 && f.availableReplicas === 0));
  assert.equal(list[417]?.labels['index'], '417');
  const rssDeployed = rssKiB();

  // Requests for names no function has: 404, and nothing kept for them.
  for (let i = 0; i < 200; i++) {
    const r = await gw.fetch(`/function/nobody-${i}`, { auth: false });
    assert.equal(r.status, 404);
    await r.text();
  }

  const cold = performance.now();
  const r = await gw.fetch(`/function/${nameOf(500)}`, { auth: false });
  assert.equal(await r.text(), 'hello\n');
  assert.equal(r.status, 200);
  const coldMs = performance.now() - cold;
  const s = (await gw.get(`/system/function/${nameOf(500)}`)) as { replicas: number; availableReplicas: number };
  assert.deepEqual([s.replicas, s.availableReplicas], [1, 1]);
  assert.equal((await containers()).length, 1, 'one replica, of the function invoked');
  const rssAfter = rssKiB();

  const perFn = ((rssDeployed - rssBefore) * 1024) / COUNT;
  t.diagnostic(`berthd VmRSS: ${rssBefore} KiB before, ${rssDeployed} KiB with ${COUNT} functions deployed at zero (+${rssDeployed - rssBefore} KiB, ${Math.round(perFn)} bytes a function), ${rssAfter} KiB after one cold start`);
  t.diagnostic(`deploy of ${COUNT} in ${Math.round(deployMs)} ms (${BATCH} at a time), list of ${COUNT} in ${Math.round(listMs)} ms, cold start among them in ${Math.round(coldMs)} ms`);
  // A loose bound that a leak per function (a timer, a watcher, a container's state) would cross; not a timing.
  assert.ok(rssDeployed - rssBefore < 64 * 1024, `berthd grew by ${rssDeployed - rssBefore} KiB for ${COUNT} idle functions`);

  // Gone again: all deleted, in batches too.
  await inBatches(COUNT, async (i) => {
    const del = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: nameOf(i) }) });
    assert.equal(del.status, 200, await del.text());
  });
  assert.deepEqual(await gw.get('/system/functions'), []);
  await until('no container left', async () => ((await containers()).length === 0 ? true : undefined), 30_000);
});
