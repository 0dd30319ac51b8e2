/**
 * Autoscaling in a real berthd (as root): a function that sleeps a second
 * per call, labelled to scale on requests in flight (capacity, target 1),
 * min 1 and max 3, gets a bounded load of 4 concurrent callers through the
 * gateway: its replicas grow past one and never past three, the new ones
 * answer (their hostnames come back) and no call fails while they start;
 * once the load is gone they go back to the minimum, never below it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { delay } from '../../../src/delay.ts';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { gatewayClient, type GatewayClient } from '../../helpers/faas.ts';

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  d = await startDaemon({ gateway: true });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  await d?.stop();
});

/** The function's replicas wanted and ready, as FunctionStatus says. */
const status = async (fn: string): Promise<{ replicas: number; availableReplicas: number }> => (await gw.get(`/system/function/${fn}`)) as { replicas: number; availableReplicas: number };

async function replicaCount(fn: string): Promise<number> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return ((await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as unknown[]).length;
}

test('capacity autoscaling: up to >1 and ≤ max under 4 concurrent callers, no failed call, back to min after', async () => {
  const r = await gw.deploy({
    service: 'sleeper',
    image: 'busybox:latest',
    // The body is the script: each call sleeps a second and says which replica served it.
    envProcess: 'sh',
    labels: {
      'com.openfaas.scale.type': 'capacity',
      'com.openfaas.scale.target': '1',
      'com.openfaas.scale.target-proportion': '1.0',
      'com.openfaas.scale.min': '1',
      'com.openfaas.scale.max': '3',
      'com.openfaas.scale.down.window': '2s',
    },
  });
  assert.equal(r.status, 202, await r.text());
  await until('sleeper to be ready', async () => ((await status('sleeper')).availableReplicas === 1 ? true : undefined), 60_000);

  let stop = false;
  let highest = 0;
  const hosts = new Set<string>();
  const failures: string[] = [];
  let calls = 0;
  // Bounded: at most 40 calls per caller, and the callers stop once more than one replica has answered.
  const caller = async (): Promise<void> => {
    for (let i = 0; i < 40 && !stop; i++) {
      const res = await gw.fetch('/function/sleeper', { auth: false, method: 'POST', body: 'sleep 1; hostname' });
      const text = await res.text();
      calls++;
      if (res.status === 200) hosts.add(text.trim());
      else failures.push(`${res.status} ${text}`);
    }
  };
  const watcher = (async () => {
    while (!stop) {
      const s = await status('sleeper');
      highest = Math.max(highest, s.replicas, await replicaCount('sleeper'));
      if (hosts.size > 1 && highest > 1) stop = true;
      await delay(100);
    }
  })();
  await Promise.all([caller(), caller(), caller(), caller()]);
  stop = true;
  await watcher;
  assert.deepEqual(failures, [], 'no call failed while replicas started');
  assert.ok(highest > 1, `the replicas grew past one (highest seen: ${highest}, ${calls} calls)`);
  assert.ok(highest <= 3, `never above max 3 (highest seen: ${highest})`);
  assert.ok(hosts.size > 1, `a new replica served calls: ${[...hosts].join(', ')}`);
  console.log(`# ${calls} calls, up to ${highest} replicas, served by ${hosts.size}`);
  assert.match(d.log(), /"function autoscaled"/);

  // Idle: down to min (1) after the load window and the down window, and never below it.
  let lowest = Infinity;
  await until('sleeper to go back to one replica', async () => {
    const s = await status('sleeper');
    const n = await replicaCount('sleeper');
    lowest = Math.min(lowest, s.replicas);
    return s.replicas === 1 && s.availableReplicas === 1 && n === 1 ? true : undefined;
  }, 60_000);
  assert.equal(lowest, 1, 'never below min');
  const del = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'sleeper' }) });
  assert.equal(del.status, 200);
});
