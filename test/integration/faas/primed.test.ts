/**
 * A function's primed replica across a kill -9 of berthd (as root): the
 * function at zero keeps its prepared replica primed (its monitor and its
 * blocked process up, a namespace and a lease held); berthd dies without a
 * word; the restarted berthd un-primes it (the old monitor and process go,
 * the namespace and lease are released), the gateway adopts the same
 * container and primes it again, and it serves the next request. Deleting
 * the function then leaves no container, monitor, namespace or lease. A
 * primed process killed at zero costs the next request nothing but the
 * whole start. And berthd --faas-primed-max is checked like the other
 * flags.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { daemonDirs, runBerthd } from '../../helpers/berthd.ts';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { monitorsOf } from '../../helpers/engine-leaks.ts';
import { gatewayClient } from '../../helpers/faas.ts';

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ gateway: true });
});

after(async () => {
  await d?.stop();
});

const gw = () => gatewayClient(d.gateway!, d.root);

/** A process that runs (a zombie not yet reaped does not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function replicaStates(fn: string): Promise<{ Id: string; State: string }[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return ((await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as { Id: string; State: string }[]).map((c) => ({ Id: c.Id, State: c.State }));
}

function netns(): string[] {
  const dir = join(d.runRoot, 'netns');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Every IPAM lease of the daemon's networks. */
function leases(): string[] {
  const dir = join(d.root, 'network', 'ipam');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((net) => readdirSync(join(dir, net)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)));
}

/**
 * The primed replica's monitor and process, once its marker is there and
 * names a monitor other than `previous`: a restarted berthd's recovery
 * removes the old prime's run dir only once it has seen its monitor gone,
 * so for a moment the old marker is still there, naming the dead ones.
 */
async function primed(id: string, previous?: number): Promise<{ monitor: number; pid: number }> {
  const rd = join(d.runRoot, 'containers', id);
  const found = await until(`replica ${id.slice(0, 12)} to be primed`, () => {
    try {
      const pid = Number(readFileSync(join(rd, 'primed'), 'utf8'));
      const monitor = Number(readFileSync(join(rd, 'monitor.pid'), 'utf8'));
      return monitor === previous ? undefined : { monitor, pid };
    } catch {
      return undefined; // not primed yet, or its run dir being made or removed
    }
  }, 30_000);
  assert.ok(alive(found.monitor) && alive(found.pid), 'its monitor and its process are up');
  return found;
}

test('kill -9 of berthd with a primed replica at zero: the new berthd un-primes it, leaks nothing, primes it again and it serves', { timeout: 180_000 }, async () => {
  const deploy = await gw().deploy({ service: 'crashprimed', image: 'busybox:latest', envProcess: 'wc -c', labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '2s' } });
  assert.equal(deploy.status, 202, await deploy.text());
  try {
    await until('a first replica', async () => ((await replicaStates('crashprimed')).some((c) => c.State === 'running') ? true : undefined), 60_000);
    const id = await until('crashprimed at zero with one replica prepared', async () => {
      const cs = await replicaStates('crashprimed');
      return cs.length === 1 && cs[0]!.State === 'created' ? cs[0]!.Id : undefined;
    }, 60_000);
    const before = await primed(id);
    assert.equal(netns().length, 1, 'its namespace (the pool is off in tests)');
    assert.equal(leases().length, 1, 'its lease');

    await d.kill9();
    assert.ok(alive(before.monitor) && alive(before.pid), 'berthd gone, the monitor and the process run on');
    await d.restart();
    await until('the old monitor and process to be gone', () => (!alive(before.monitor) && !alive(before.pid) ? true : undefined), 30_000);
    await primed(id, before.monitor);
    assert.deepEqual((await replicaStates('crashprimed')).map((c) => [c.Id, c.State]), [[id, 'created']], 'the same container, adopted');
    assert.equal(netns().length, 1, 'one namespace: the old one released, one for the new prime');
    assert.equal(leases().length, 1, 'one lease');
    assert.deepEqual([...monitorsOf(d.runRoot).keys()], [id], 'one monitor');

    const r = await gw().fetch('/function/crashprimed', { auth: false, method: 'POST', body: 'twelve bytes' });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    assert.equal(text.trim(), '12');
    assert.deepEqual(await replicaStates('crashprimed'), [{ Id: id, State: 'running' }], 'the primed replica is the one that served');
  } finally {
    const del = await gw().fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'crashprimed' }) });
    assert.equal(del.status, 200, await del.text());
  }
  await until('no replica left', async () => ((await replicaStates('crashprimed')).length === 0 ? true : undefined), 30_000);
  assert.deepEqual(netns(), [], 'no namespace left');
  assert.deepEqual(leases(), [], 'no lease left');
  assert.deepEqual([...monitorsOf(d.runRoot).keys()], [], 'no monitor left');
});

test('its primed process killed at zero: the next request is served all the same (the engine starts the replica the whole way)', { timeout: 120_000 }, async () => {
  const deploy = await gw().deploy({ service: 'killedprimed', image: 'busybox:latest', envProcess: 'wc -c', labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '2s' } });
  assert.equal(deploy.status, 202, await deploy.text());
  try {
    await until('a first replica', async () => ((await replicaStates('killedprimed')).some((c) => c.State === 'running') ? true : undefined), 60_000);
    const id = await until('killedprimed at zero with one replica prepared', async () => {
      const cs = await replicaStates('killedprimed');
      return cs.length === 1 && cs[0]!.State === 'created' ? cs[0]!.Id : undefined;
    }, 60_000);
    const { pid, monitor } = await primed(id);
    process.kill(pid, 'SIGKILL');
    await until('its monitor to go with it', () => (!alive(monitor) ? true : undefined), 10_000);
    const r = await gw().fetch('/function/killedprimed', { auth: false, method: 'POST', body: 'seven b' });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    assert.equal(text.trim(), '7');
    assert.deepEqual(await replicaStates('killedprimed'), [{ Id: id, State: 'running' }], 'the same replica, started the whole way');
    const line = await until('the cold start logged', () => d.log().split('\n').findLast((l) => l.includes('"function cold start"') && l.includes('"killedprimed"')), 5_000);
    const phases = (JSON.parse(line) as { ms: Record<string, number> }).ms;
    for (const p of ['primed', 'primed lost', 'network', 'monitor and runtime create', 'runtime start', 'response']) assert.equal(typeof phases[p], 'number', p);
  } finally {
    const del = await gw().fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'killedprimed' }) });
    assert.equal(del.status, 200, await del.text());
  }
  await until('no replica left', async () => ((await replicaStates('killedprimed')).length === 0 ? true : undefined), 30_000);
  assert.deepEqual(netns(), [], 'no namespace left');
  assert.deepEqual(leases(), [], 'no lease left');
  assert.deepEqual([...monitorsOf(d.runRoot).keys()], [], 'no monitor left');
});

test('--faas-primed-max with a value that is not a number is refused naming the flag', async (t) => {
  const fg = runBerthd(daemonDirs(t), ['--faas-primed-max', 'many']);
  const { code } = await fg.exited;
  assert.notEqual(code, 0);
  assert.match(fg.output(), /--faas-primed-max "many": not a number of functions/);
});
