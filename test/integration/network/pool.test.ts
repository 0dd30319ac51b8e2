/**
 * The pool of sandboxes attached before they are asked for (root): filled
 * in the background, taken by a request that fits, refilled, drained on
 * close without a lease left.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SandboxPool } from '../../../src/network/pool.ts';
import { onCleanup } from '../../helpers/cleanup.ts';
import { anyTcpPort, inNetns, iptablesLines, leaks, netFixture, netSetup, request } from '../../helpers/network.ts';

test('a pool fills, serves a fitting request with a working sandbox, refills, and leaves nothing on close', async (t) => {
  const f = netFixture(t);
  const before = iptablesLines();
  const net = f.network();
  const other = f.network();
  const sb = f.sandboxes();
  const pool = new SandboxPool(sb, net, { size: 2 });
  onCleanup(t, () => pool.close());
  pool.start();
  await pool.settled();
  assert.equal(pool.ready(), 2);

  const containerId = f.container();
  const t0 = performance.now();
  const box = pool.take(containerId, request(net, { aliases: ['api'] }));
  const tookMs = performance.now() - t0;
  assert.ok(box !== undefined);
  assert.equal(sb.ofContainer(containerId)?.id, box.id);
  const ep = box.endpoints[0]!;
  assert.equal(ep.networkId, net.id);
  assert.deepEqual(ep.aliases, ['api']);
  inNetns(box.netns, 'busybox', 'ping', '-c', '1', '-W', '5', net.gateway);

  // Requests a pooled sandbox does not fit.
  assert.equal(pool.take(f.container(), request(net, { ports: [anyTcpPort(80, '')] })), undefined);
  assert.equal(pool.take(f.container(), request(other)), undefined);
  assert.equal(pool.take(f.container(), request(net, { macAddress: '02:42:ac:11:00:09' })), undefined);

  await pool.settled();
  assert.equal(pool.ready(), 2, 'refilled');
  const t1 = performance.now();
  const made = await sb.create(f.container());
  await sb.attach(made.id, request(net));
  const madeMs = performance.now() - t1;
  t.diagnostic(`take ${tookMs.toFixed(2)} ms, create+attach ${madeMs.toFixed(1)} ms`);

  await pool.close();
  assert.equal(pool.ready(), 0);
  assert.equal(pool.take(f.container(), request(net)), undefined, 'closed');
  await sb.release(box.id);
  await sb.release(made.id);
  assert.deepEqual(leaks(f, before), []);
});

test('a pool of size 0 makes nothing and serves nothing', async (t) => {
  const { f, net, sb } = netSetup(t);
  const pool = new SandboxPool(sb, net, { size: 0 });
  pool.start();
  await pool.settled();
  assert.equal(pool.ready(), 0);
  assert.equal(pool.take(f.container(), request(net)), undefined);
  await pool.close();
});

test('a take inside an open transaction joins it: rolled back, the sandbox is still pooled', async (t) => {
  const { f, net, sb } = netSetup(t);
  const pool = new SandboxPool(sb, net, { size: 1, refillDelayMs: 60_000 });
  onCleanup(t, () => pool.close());
  pool.start();
  await pool.settled();
  const containerId = f.container();
  f.db.exec('BEGIN IMMEDIATE');
  const box = pool.take(containerId, request(net));
  assert.ok(box !== undefined);
  f.db.exec('ROLLBACK');
  assert.equal(sb.ofContainer(containerId), undefined);
  assert.deepEqual(sb.pooled(net.id), [box.id]);
});
