/**
 * `run --rm` cycles through a real berthd (root only; its own roots) leak
 * nothing: no mount, cgroup, snapshot, run or container directory, runtime
 * state, monitor process, database row (containers, their volumes,
 * anonymous volumes) and no file descriptor of berthd beyond a small
 * constant. Each cycle is what `berth run --rm` sends: create (with an
 * anonymous volume, which --rm removes), wait for removal, start.
 *
 * 50 cycles by default; BERTH_TEST_LEAK_CYCLES=1000 for the proof
 * (./run-tests sets it: see there), run two at a time.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { ApiClient } from '../../../src/api/client.ts';
import { createContainer, daemonFixture, type DaemonFixture } from '../../helpers/berthd-process.ts';
import { assertNoLeaks, engineState } from '../../helpers/engine-leaks.ts';

const CYCLES = Number(process.env['BERTH_TEST_LEAK_CYCLES'] ?? 50);
const AT_ONCE = 2;
/** Sockets and files a daemon may open lazily (a pooled connection, the snapshot metadata); not per cycle. */
const FD_SLACK = 8;

let fx: DaemonFixture;
before(async () => {
  fx = await daemonFixture();
});
after(async () => {
  await fx?.cleanup();
});

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** One `berth run --rm busybox sh -c 'echo N > /data/n; cat /data/n'`; its exit code. */
async function runRm(client: ApiClient, n: number, ids: Set<string>): Promise<number> {
  const id = await createContainer(client, ['sh', '-c', `echo ${n} > /data/n; exit $(( $(cat /data/n) % 7 ))`], { rm: true, volume: ['/data'], network: 'none' });
  ids.add(id);
  const waiting = await client.open('POST', `/containers/${id}/wait`, { query: { condition: 'removed' } });
  await client.json('POST', `/containers/${id}/start`);
  const chunks: Buffer[] = [];
  for await (const c of waiting as AsyncIterable<Buffer>) chunks.push(c);
  return (JSON.parse(Buffer.concat(chunks).toString().trim()) as { StatusCode: number }).StatusCode;
}

test(`${CYCLES} run --rm cycles through berthd leave no mount, cgroup, snapshot, monitor, fd or row`, async (t) => {
  const d = await fx.start();
  const ids = new Set<string>();
  // Warm up: the first run opens what the daemon keeps open for good (snapshotter, runtime context).
  assert.equal(await runRm(d.client, 1, ids), 1);
  const fdsBefore = openFds(d.pid);
  const started = Date.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < CYCLES) {
      const n = next++;
      assert.equal(await runRm(d.client, n, ids), n % 7, `cycle ${n}: the container's exit code`);
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  const ms = Date.now() - started;
  t.diagnostic(`${CYCLES} cycles, ${AT_ONCE} at a time, in ${ms} ms: ${(ms / CYCLES).toFixed(1)} ms per cycle`);

  assert.equal(ids.size, CYCLES + 1);
  await assertNoLeaks(t, fx.root, fx.runRoot, ids);
  const state = engineState(fx.root, fx.runRoot);
  assert.deepEqual(state.rows, { containers: 0, containerVolumes: 0, volumes: 0, anonymousVolumes: 0 });
  assert.equal(state.monitors.size, 0);
  const fdsAfter = openFds(d.pid);
  t.diagnostic(`berthd fds: ${fdsBefore} before, ${fdsAfter} after`);
  assert.ok(fdsAfter <= fdsBefore + FD_SLACK, `berthd holds ${fdsAfter} fds after ${CYCLES} cycles, ${fdsBefore} before`);
  await d.stop();
});
