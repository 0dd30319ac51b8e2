/**
 * Sandboxes against the real CNI plugins (root): namespaces attached to one
 * bridge reach each other, release leaves nothing behind, a half-made
 * state is undone by release.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readLeases } from '../../../src/network/cni/leases.ts';
import { listNetns, netnsDir, removeNetns } from '../../../src/network/netns.ts';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { anyTcpPort, client, inNetns, iptablesLines, leaks, netFixture, netSetup, request, startServer } from '../../helpers/network.ts';

/** The tuning plugin keeps what it changed (the MAC) under /run/cni/tuning to restore at DEL. */
function tuningState(): string[] {
  try {
    return readdirSync('/run/cni/tuning');
  } catch {
    return [];
  }
}

test('two namespaces on one network ping each other and talk TCP; release leaves nothing', async (t) => {
  const { f, net, sb, before } = netSetup(t);
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

test('release after host-local lost its leases still cleans up everything', async (t) => {
  const { f, net, sb, before } = netSetup(t);
  const a = await sb.create(f.container());
  await sb.attach(a.id, request(net, { macAddress: '02:42:0a:d5:00:4e' }));
  rmSync(`${f.root}/network/ipam/${net.id}`, { recursive: true, force: true });
  await sb.release(a.id);
  assert.deepEqual(leaks(f, before), []);
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(a.id), false);
  assert.deepEqual(tuningState().filter((n) => n.includes(a.id)), [], "the tuning plugin's saved state");
});

test('release after the namespace was unmounted behind berth\'s back leaves nothing either', async (t) => {
  const { f, net, sb, before } = netSetup(t);
  const a = await sb.create(f.container());
  await sb.attach(a.id, request(net, { ports: [anyTcpPort()] }));
  await removeNetns(a.netns);
  await sb.release(a.id);
  assert.equal(sb.get(a.id), undefined);
  assert.deepEqual(readLeases(`${f.root}/network/ipam`, net.id), []);
  assert.deepEqual(listNetns(netnsDir(f.runRoot)), []);
  assert.deepEqual(leaks(f, before), []);
});

test('--ip, --mac-address and the MTU option are what the container sees; a second network is eth1; detach removes one', async (t) => {
  const f = netFixture(t);
  const before = iptablesLines();
  const net = f.network();
  const second = f.network();
  second.options = { 'com.docker.network.driver.mtu': '1400' };
  const sb = f.sandboxes();
  const box = await sb.create(f.container());
  const x = net.subnet.split('.')[2]!;
  const ep = await sb.attach(box.id, request(net, { ipv4Address: `10.213.${x}.77`, macAddress: '02:42:0a:d5:00:4d' }));
  assert.equal(ep.ipv4, `10.213.${x}.77/24`);
  assert.equal(ep.mac, '02:42:0a:d5:00:4d');
  const eth0 = inNetns(box.netns, 'ip', '-o', 'addr', 'show', 'eth0');
  assert.match(eth0, new RegExp(`inet 10\\.213\\.${x}\\.77/24`));
  assert.match(inNetns(box.netns, 'ip', '-o', 'link', 'show', 'eth0'), /link\/ether 02:42:0a:d5:00:4d /);
  const ep2 = await sb.attach(box.id, request(second));
  assert.equal(ep2.ifname, 'eth1');
  assert.match(inNetns(box.netns, 'ip', '-o', 'link', 'show', 'eth1'), / mtu 1400 /);
  assert.deepEqual(inNetns(box.netns, 'ip', 'route', 'show', 'default').trim().split('\n'), [`default via ${net.gateway} dev eth0 `.trim()], 'one default route, the first network\'s');
  await assert.rejects(sb.attach(box.id, request(second)), /already attached to network/);
  // The same address twice on one network is refused by host-local, and leaves nothing.
  const other = await sb.create(f.container());
  await assert.rejects(sb.attach(other.id, request(net, { ipv4Address: `10.213.${x}.77` })), /CNI plugin "bridge" ADD failed/);
  assert.deepEqual(sb.get(other.id)?.endpoints, []);

  await sb.detach(box.id, net.id);
  assert.deepEqual(sb.get(box.id)?.endpoints.map((e) => e.ifname), ['eth1']);
  assert.throws(() => inNetns(box.netns, 'ip', 'link', 'show', 'eth0'));
  await sb.detach(box.id, net.id); // nothing to do
  await sb.release(box.id);
  await sb.release(other.id);
  assert.deepEqual(leaks(f, before), []);
});

test('200 create/attach/release cycles leave nothing behind', async (t) => {
  const { f, net, sb, before } = netSetup(t);
  const deadline = Date.now() + 240_000;
  let done = 0;
  for (; done < 200 && Date.now() < deadline; done++) {
    const box = await sb.create(f.container());
    await sb.attach(box.id, request(net, { ports: done % 10 === 0 ? [anyTcpPort()] : [] }));
    await sb.release(box.id);
  }
  t.diagnostic(`${done} cycles`);
  assert.ok(done >= 50, `only ${done} cycles within the time bound`);
  assert.deepEqual(leaks(f, before), []);
});

test('removeNetwork: refused while an endpoint uses it, then the bridge, the rules and the IPAM directory go', async (t) => {
  const { f, net, sb } = netSetup(t);
  const box = await sb.create(f.container());
  await sb.attach(box.id, request(net));
  await assert.rejects(sb.removeNetwork(net), (e: unknown) => isBerthError(e, 'network_has_endpoints') && e.message.includes(`"${net.name}"`));
  assert.ok(existsSync(`${f.root}/network/ipam/${net.id}`));
  await sb.release(box.id);
  await sb.removeNetwork(net);
  await sb.removeNetwork(net); // idempotent
  assert.throws(() => execFileSync('ip', ['link', 'show', net.bridge], { stdio: 'ignore' }));
  assert.equal(existsSync(`${f.root}/network/ipam/${net.id}`), false);
  assert.equal(execFileSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' }).includes(net.bridge), false);
});

test('check() runs CNI CHECK: passes on a sound sandbox, names the plugin when its interface is gone; release still leaves nothing', async (t) => {
  const { f, net, sb, before } = netSetup(t);
  const box = await sb.create(f.container());
  await sb.attach(box.id, request(net, { ports: [anyTcpPort()] }));
  await sb.check(box.id);
  // portmap with snat makes the bridge accept 127.0.0.1 as a source/destination (route_localnet).
  assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${net.bridge}/route_localnet`, 'utf8').trim(), '1');
  inNetns(box.netns, 'ip', 'link', 'del', 'eth0');
  await assert.rejects(sb.check(box.id), (e: unknown) => isBerthError(e, 'cni_plugin_failed') && e.message.includes('CNI plugin "bridge" CHECK failed'));
  await sb.release(box.id);
  assert.deepEqual(leaks(f, before), []);
});
