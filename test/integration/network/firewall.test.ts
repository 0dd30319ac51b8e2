/**
 * NAT out, isolation between networks and internal networks (root),
 * observed on the wire: a server in a namespace the test made outside every
 * network, and servers in the containers' namespaces.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { ensureNetworkRules, removeNetworkRules } from '../../../src/network/firewall.ts';
import { client, inNetns, netFixture, netSetup, outsideNamespace, request, startServer } from '../../helpers/network.ts';

const berthRules = (): string[] =>
  execFileSync('iptables-save', { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('BERTH-'));

test('a container reaches a server outside through NAT (the server sees the host address), and not without the NAT rule', async (t) => {
  const { f, net, sb } = netSetup(t);
  const out = await outsideNamespace(t);
  await startServer(t, out.netns, 'tcp', 9000, 'outside');
  const box = await sb.create(f.container());
  await sb.attach(box.id, request(net));
  assert.equal(client(box.netns, 'tcp', out.address, 9000), `outside ${out.hostAddress}`);
  assert.equal(berthRules().filter((l) => l === `-A BERTH-MASQUERADE -s ${net.subnet} ! -o ${net.bridge} -j MASQUERADE`).length, 1);
  // The outside namespace has no route back to the subnet: without the masquerade no answer comes.
  await removeNetworkRules(net);
  assert.equal(client(box.netns, 'tcp', out.address, 9000), 'timeout');
});

test('two networks cannot reach each other; the isolation rules are what stops them, and go with the networks', async (t) => {
  const f = netFixture(t);
  const out = await outsideNamespace(t);
  await startServer(t, out.netns, 'tcp', 9000, 'outside');
  const netA = f.network();
  const netB = f.network();
  const sb = f.sandboxes();
  const a1 = await sb.create(f.container());
  const a2 = await sb.create(f.container());
  const b1 = await sb.create(f.container());
  const ipA1 = (await sb.attach(a1.id, request(netA))).ipv4.split('/')[0]!;
  await sb.attach(a2.id, request(netA));
  const ipB1 = (await sb.attach(b1.id, request(netB))).ipv4.split('/')[0]!;
  await startServer(t, a1.netns, 'tcp', 7000, 'a1');
  await startServer(t, b1.netns, 'tcp', 7000, 'b1');

  assert.match(client(a2.netns, 'tcp', ipA1, 7000), /^a1 /, 'same network');
  assert.match(client(b1.netns, 'tcp', out.address, 9000), /^outside /, 'b1 has a way out');
  assert.equal(client(a1.netns, 'tcp', ipB1, 7000), 'timeout', 'A to B');
  assert.equal(client(b1.netns, 'tcp', ipA1, 7000), 'timeout', 'B to A');

  // Without berth's rules the firewall plugin alone lets A reach B: the rules are what isolates.
  await removeNetworkRules(netA);
  await removeNetworkRules(netB);
  assert.deepEqual(berthRules().filter((l) => l.includes(netA.bridge) || l.includes(netB.bridge)), []);
  // Other networks on this host (another test's, a daemon's) keep the chains; when there are none they go too.
  if (!berthRules().some((l) => / -[ios] /.test(l))) assert.deepEqual(berthRules(), [], 'nothing left when the last network goes');
  assert.match(client(a1.netns, 'tcp', ipB1, 7000), /^b1 /, 'reachable without the rules');
  await ensureNetworkRules(netA);
  await ensureNetworkRules(netB);
  await ensureNetworkRules(netB); // idempotent
  assert.equal(berthRules().filter((l) => l.includes(`-o ${netB.bridge} -j DROP`)).length, 1);
  assert.equal(client(a1.netns, 'tcp', ipB1, 7000), 'timeout', 'A to B again');
});

test('an internal network has no way out and nothing from outside gets in; inside it containers talk', async (t) => {
  const f = netFixture(t);
  const out = await outsideNamespace(t);
  await startServer(t, out.netns, 'tcp', 9000, 'outside');
  const internalNet = f.network({ internal: true });
  const sb = f.sandboxes();
  const i1 = await sb.create(f.container());
  const i2 = await sb.create(f.container());
  const ep1 = await sb.attach(i1.id, request(internalNet));
  await sb.attach(i2.id, request(internalNet));
  await startServer(t, i1.netns, 'tcp', 7000, 'i1');
  assert.match(client(i2.netns, 'tcp', ep1.ipv4.split('/')[0]!, 7000), /^i1 /);
  assert.equal(inNetns(i1.netns, 'ip', 'route', 'show', 'default').trim(), '', 'no default route');
  // Routes added by hand both ways (so replies would find their way back without NAT), and still
  // the bridge lets nothing out and nothing in.
  inNetns(i1.netns, 'ip', 'route', 'add', 'default', 'via', internalNet.gateway);
  inNetns(out.netns, 'ip', 'route', 'add', internalNet.subnet, 'via', out.hostAddress);
  assert.equal(client(i1.netns, 'tcp', out.address, 9000), 'timeout', 'out');
  assert.equal(client(out.netns, 'tcp', ep1.ipv4.split('/')[0]!, 7000), 'timeout', 'in');
  // The fence is what stops it: without berth's rules the same routes carry both ways.
  await removeNetworkRules(internalNet);
  assert.match(client(out.netns, 'tcp', ep1.ipv4.split('/')[0]!, 7000), /^i1 /, 'in, unfenced');
});

test('a sandbox connected to a second network reaches it there, and not after it is detached', async (t) => {
  const { f, net: front, sb } = netSetup(t);
  const back = f.network();
  const web = await sb.create(f.container());
  const db = await sb.create(f.container());
  await sb.attach(web.id, request(front));
  const dbIp = (await sb.attach(db.id, request(back))).ipv4.split('/')[0]!;
  await startServer(t, db.netns, 'tcp', 80, 'db');
  assert.equal(client(web.netns, 'tcp', dbIp, 80), 'timeout', 'isolated');
  await sb.attach(web.id, request(back));
  assert.match(client(web.netns, 'tcp', dbIp, 80), /^db /, 'connected');
  await sb.detach(web.id, back.id);
  assert.equal(client(web.netns, 'tcp', dbIp, 80), 'timeout', 'disconnected');
});
