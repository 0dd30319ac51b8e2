/**
 * Sandboxes against the real CNI plugins (root): namespaces attached to one
 * bridge reach each other, release leaves nothing behind, a half-made
 * state is undone by release.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { client, inNetns, iptablesLines, leaks, netFixture, request, startServer } from '../../helpers/network.ts';

test('two namespaces on one network ping each other and talk TCP; release leaves nothing', async (t) => {
  const f = netFixture(t);
  const before = iptablesLines();
  const net = f.network();
  const sb = f.sandboxes();
  const a = await sb.create(f.container());
  const b = await sb.create(f.container());
  assert.ok(existsSync(a.netns));
  assert.match(inNetns(a.netns, 'ip', '-o', 'link', 'show', 'lo'), /UP/, 'lo is up');
  const ea = await sb.attach(a.id, request(net, { aliases: ['web'] }));
  const eb = await sb.attach(b.id, request(net));
  assert.equal(ea.ifname, 'eth0');
  assert.equal(ea.gateway, net.gateway);
  const ipA = ea.ipv4.split('/')[0]!;
  const ipB = eb.ipv4.split('/')[0]!;
  assert.match(inNetns(a.netns, 'ip', '-o', '-4', 'addr', 'show', 'eth0'), new RegExp(ea.ipv4.replace(/\./g, '\\.')));
  assert.match(inNetns(a.netns, 'ip', '-o', 'link', 'show', 'eth0'), new RegExp(`link/ether ${ea.mac} `));
  inNetns(b.netns, 'busybox', 'ping', '-c', '1', '-W', '5', ipA);
  await startServer(t, a.netns, 'tcp', 7000, 'hello-from-a');
  assert.equal(client(b.netns, 'tcp', ipA, 7000), `hello-from-a ${ipB}`);

  const eps = sb.endpointsOfNetwork(net.id);
  assert.deepEqual(eps.map((e) => e.ipv4).sort(), [ea.ipv4, eb.ipv4].sort());
  assert.deepEqual(eps.find((e) => e.sandboxId === a.id)?.aliases, ['web']);
  assert.equal(sb.get(a.id)?.endpoints[0]?.ipv4, ea.ipv4);

  await sb.release(a.id);
  await sb.release(b.id);
  await sb.release(b.id); // idempotent
  assert.equal(existsSync(a.netns), false);
  assert.deepEqual(leaks(f, before), []);
});

test('release after the namespace and leases were lost already still cleans up', async (t) => {
  const f = netFixture(t);
  const before = iptablesLines();
  const net = f.network();
  const sb = f.sandboxes();
  const a = await sb.create(f.container());
  await sb.attach(a.id, request(net));
  // Lose host-local's lease behind berth's back: DEL must still go through.
  const { rmSync } = await import('node:fs');
  rmSync(`${f.root}/network/ipam/${net.id}`, { recursive: true, force: true });
  await sb.release(a.id);
  assert.deepEqual(leaks(f, before), []);
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(a.id), false);
});
