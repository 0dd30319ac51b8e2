import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { ContainerStore } from '../../../src/engine/store/containers.ts';
import { openEngineDatabase } from '../../../src/engine/store/db.ts';
import { NetworkStore, type NetworkStoreOptions } from '../../../src/network/networks.ts';
import { parseCidr, type Cidr } from '../../../src/network/subnets.ts';
import type { NetworkRecord } from '../../../src/network/types.ts';
import { onCleanup, tempDir } from '../../helpers/cleanup.ts';

interface Stores {
  networks: NetworkStore;
  containers: ContainerStore;
  removed: NetworkRecord[];
  rows(): unknown[];
}

function open(t: TestContext, options: NetworkStoreOptions & { host?: Cidr[] } = {}): Stores {
  const db = openEngineDatabase(join(tempDir(t), 'berth.db'));
  onCleanup(t, () => db.close());
  const removed: NetworkRecord[] = [];
  const networks = new NetworkStore(db, {
    hostNetworks: () => options.host ?? [],
    interfaceExists: (name) => name === 'eth0',
    onRemove: (r) => void removed.push(r),
    ...options,
  });
  return { networks, containers: new ContainerStore(db), removed, rows: () => db.prepare('SELECT * FROM engine_networks ORDER BY name').all() };
}

function container(s: Stores, name: string): string {
  const { id } = s.containers.beginCreate({ name, imageRef: 'busybox', imageId: 'sha256:' + 'b'.repeat(64), options: {} });
  s.containers.finishCreate(id);
  return id;
}

function uses(s: Stores, containerId: string, networkId: string): void {
  s.networks.db.prepare('INSERT INTO engine_container_networks (container_id, network_id) VALUES (?, ?)').run(containerId, networkId);
}

function attach(s: Stores, containerId: string | null, networkId: string, ipv4: string, mac: string): void {
  const sandbox = (containerId ?? 'f'.repeat(64)).replace(/^./, 'a');
  s.networks.db
    .prepare("INSERT INTO engine_sandboxes (id, netns, container_id, state, created_at) VALUES (?, ?, ?, 'ready', '2026-01-01T00:00:00Z')")
    .run(sandbox, `/run/netns/${sandbox}`, containerId);
  s.networks.db
    .prepare("INSERT INTO engine_endpoints (sandbox_id, network_id, ifname, state, config, ipv4, mac) VALUES (?, ?, 'eth0', 'attached', '{}', ?, ?)")
    .run(sandbox, networkId, ipv4, mac);
}

async function rejects(p: Promise<unknown>, code: string, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    for (const part of parts) assert.ok(err.message.includes(part), `message ${JSON.stringify(err.message)} should name ${part}`);
    return true;
  });
}

function throws(fn: () => unknown, code: string, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, code), `expected ${code}, got ${String(err)}`);
    for (const part of parts) assert.ok(err.message.includes(part), `message ${JSON.stringify(err.message)} should name ${part}`);
    return true;
  });
}

test("the default network is docker's bridge: berth0, 172.17.0.0/16, no DNS, made once", (t) => {
  const s = open(t);
  const d = s.networks.ensureDefault();
  assert.equal(d.name, 'bridge');
  assert.equal(d.bridge, 'berth0');
  assert.equal(d.subnet, '172.17.0.0/16');
  assert.equal(d.gateway, '172.17.0.1');
  assert.equal(d.dns, false);
  assert.match(d.id, /^[0-9a-f]{64}$/);
  assert.deepEqual(s.networks.ensureDefault(), d);
  assert.equal(s.rows().length, 1);
});

test('the default network takes the next pool when the host routes 172.17.0.0/16 or holds an address in it', (t) => {
  assert.equal(open(t, { host: [parseCidr('172.17.0.0/16', 'r')] }).networks.ensureDefault().subnet, '172.18.0.0/16');
  assert.equal(open(t, { host: [{ base: parseCidr('172.17.3.4/32', 'a').base, prefix: 32 }, parseCidr('172.18.0.0/24', 'r')] }).networks.ensureDefault().subnet, '172.19.0.0/16');
});

test('create: a free pool, a berth-<9 hex> bridge, DNS on, labels and internal kept; a second network gets the next pool', (t) => {
  const s = open(t, { host: [parseCidr('172.19.0.0/16', 'r')] });
  s.networks.ensureDefault();
  const a = s.networks.create({ name: 'front', labels: { app: 'web' }, internal: true });
  assert.equal(a.subnet, '172.18.0.0/16');
  assert.equal(a.gateway, '172.18.0.1');
  assert.equal(a.bridge, `berth-${a.id.slice(0, 9)}`);
  assert.ok(a.bridge.length <= 15);
  assert.equal(a.dns, true);
  assert.equal(a.internal, true);
  assert.deepEqual(a.labels, { app: 'web' });
  const b = s.networks.create({ name: 'back' });
  assert.equal(b.subnet, '172.20.0.0/16', 'skips 172.19 (a host route)');
  assert.deepEqual(s.networks.get('front'), a);
});

test('create with a subnet: gateway and range kept; overlapping another berth network is refused naming both, nothing written', (t) => {
  const s = open(t);
  const a = s.networks.create({ name: 'a', subnet: '10.20.0.0/16', gateway: '10.20.0.254', ipRange: '10.20.1.0/24' });
  assert.deepEqual([a.subnet, a.gateway, a.ipRange], ['10.20.0.0/16', '10.20.0.254', '10.20.1.0/24']);
  const before = s.rows();
  throws(() => s.networks.create({ name: 'b', subnet: '10.20.5.0/24' }), 'network_subnet_overlap', '"b"', '10.20.5.0/24', '10.20.0.0/16', '"a"');
  throws(() => s.networks.create({ name: 'b', subnet: '10.20.5.1/24' }), 'network_subnet_invalid', '10.20.5.1/24');
  throws(() => s.networks.create({ name: 'b', subnet: '10.30.0.0/16', gateway: '10.31.0.1' }), 'network_gateway_invalid', '10.31.0.1');
  throws(() => s.networks.create({ name: 'b', gateway: '10.30.0.1' }), 'network_subnet_invalid', 'gateway 10.30.0.1 given without a subnet');
  throws(() => s.networks.create({ name: 'b', subnet: 'fd00::/64' }), 'network_subnet_invalid', 'IPv6');
  assert.deepEqual(s.rows(), before);
});

test('create refuses other drivers, unknown options, bad or taken names and pre-defined ones, writing nothing', (t) => {
  const s = open(t);
  s.networks.ensureDefault();
  s.networks.create({ name: 'taken' });
  const before = s.rows();
  throws(() => s.networks.create({ name: 'x', driver: 'macvlan' }), 'network_driver_unsupported', '"macvlan"');
  throws(() => s.networks.create({ name: 'x', options: { 'com.docker.network.bridge.enable_icc': 'false' } }), 'network_option_invalid', 'com.docker.network.bridge.enable_icc');
  throws(() => s.networks.create({ name: 'x', options: { 'com.docker.network.bridge.name': 'eth0' } }), 'network_option_invalid', 'exists on the host');
  throws(() => s.networks.create({ name: 'x', options: { 'com.docker.network.bridge.name': 'much-too-long-name' } }), 'network_option_invalid', 'not an interface name');
  throws(() => s.networks.create({ name: 'taken' }), 'network_exists', 'taken');
  throws(() => s.networks.create({ name: 'bad/name' }), 'network_name_invalid', 'bad/name');
  throws(() => s.networks.create({ name: '' }), 'network_name_invalid', 'required');
  for (const name of ['bridge', 'host', 'none', 'default']) throws(() => s.networks.create({ name }), 'network_predefined', name);
  assert.deepEqual(s.rows(), before);
  throws(() => s.networks.create({ name: 'x', options: { 'com.docker.network.driver.mtu': '20' } }), 'cni_mtu_invalid', 'com.docker.network.driver.mtu="20"');
  assert.deepEqual(s.rows(), before);
  assert.deepEqual(s.networks.create({ name: 'small', options: { 'com.docker.network.driver.mtu': '1400' } }).options, { 'com.docker.network.driver.mtu': '1400' });
  const own = s.networks.create({ name: 'own', options: { 'com.docker.network.bridge.name': 'br-own' } });
  assert.equal(own.bridge, 'br-own');
  throws(() => s.networks.create({ name: 'own2', options: { 'com.docker.network.bridge.name': 'br-own' } }), 'network_exists', 'br-own');
});

test('get resolves as dockerd: full ID, exact name, then an ID prefix; ambiguous prefixes and unknown names are errors', (t) => {
  const s = open(t);
  const nets = Array.from({ length: 20 }, (_, i) => s.networks.create({ name: `n${i}` }));
  const a = nets[0]!;
  assert.equal(s.networks.get(a.id).name, 'n0');
  assert.equal(s.networks.get('n3').id, nets[3]!.id);
  assert.equal(s.networks.get(a.id.slice(0, 12)).name, 'n0');
  // 20 random IDs: some share a first hex digit.
  const shared = nets.find((n) => nets.filter((m) => m.id[0] === n.id[0]).length > 1)!;
  throws(() => s.networks.get(shared.id[0]!), 'network_ambiguous', 'ambiguous');
  throws(() => s.networks.get('nope'), 'network_not_found', 'network nope not found');
  throws(() => s.networks.get(''), 'network_not_found');
});

test('remove: refused for the default network and while a container names it or an endpoint is on it; the host side is removed first', async (t) => {
  const s = open(t);
  const d = s.networks.ensureDefault();
  await rejects(s.networks.remove('bridge'), 'network_predefined', 'bridge is a pre-defined network and cannot be removed');
  const n = s.networks.create({ name: 'app' });
  const c = container(s, 'web');
  uses(s, c, n.id);
  await rejects(s.networks.remove('app'), 'network_in_use', 'app', 'active endpoints', c.slice(0, 12));
  s.networks.db.prepare('DELETE FROM engine_container_networks').run();
  attach(s, null, n.id, '172.18.0.9/16', '02:42:ac:12:00:09');
  await rejects(s.networks.remove(n.id), 'network_in_use', 'active endpoints');
  assert.equal(s.removed.length, 0);
  s.networks.db.prepare('DELETE FROM engine_endpoints').run();
  assert.equal((await s.networks.remove(n.id.slice(0, 10))).name, 'app');
  assert.deepEqual(s.removed.map((r) => r.name), ['app']);
  assert.deepEqual(s.rows().map((r) => (r as { id: string }).id), [d.id]);
  await rejects(s.networks.remove('app'), 'network_not_found', 'app');
});

test('remove: a failing host side leaves the record for another try', async (t) => {
  const s = open(t, { onRemove: () => Promise.reject(new Error('iptables said no')) });
  s.networks.create({ name: 'app' });
  await assert.rejects(s.networks.remove('app'), /iptables said no/);
  assert.equal(s.networks.get('app').name, 'app');
});

test("endpoints: inspect's containers are the attached endpoints of containers' sandboxes (not the pool's)", (t) => {
  const s = open(t);
  const n = s.networks.create({ name: 'app', subnet: '10.5.0.0/16' });
  const c = container(s, 'web');
  attach(s, c, n.id, '10.5.0.2', '02:42:0a:05:00:02');
  attach(s, null, n.id, '10.5.0.3/16', '02:42:0a:05:00:03');
  const eps = s.networks.endpoints(n);
  assert.equal(eps.length, 1);
  assert.deepEqual({ ...eps[0], endpointId: eps[0]!.endpointId.length }, { containerId: c, containerName: 'web', ipv4: '10.5.0.2/16', mac: '02:42:0a:05:00:02', endpointId: 64 });
});

test("list filters: name and id as docker's regular expressions, driver, label, scope, type, dangling", (t) => {
  const s = open(t);
  s.networks.ensureDefault();
  const front = s.networks.create({ name: 'front', labels: { tier: 'web', env: 'prod' } });
  const back = s.networks.create({ name: 'back', labels: { tier: 'db' } });
  uses(s, container(s, 'db1'), back.id);
  const names = (f: Record<string, string[]>): string[] => s.networks.list(new Map(Object.entries(f))).map((n) => n.name);
  assert.deepEqual(names({}), ['back', 'bridge', 'front']);
  assert.deepEqual(names({ name: ['^fr'] }), ['front']);
  assert.deepEqual(names({ name: ['ont', 'ack'] }), ['back', 'front']);
  assert.deepEqual(names({ id: [front.id.slice(0, 6)] }), ['front']);
  assert.deepEqual(names({ driver: ['bridge'] }), ['back', 'bridge', 'front']);
  assert.deepEqual(names({ driver: ['overlay'] }), []);
  assert.deepEqual(names({ label: ['tier'] }), ['back', 'front']);
  assert.deepEqual(names({ label: ['tier=web', 'env=prod'] }), ['front']);
  assert.deepEqual(names({ label: ['tier=web', 'env=dev'] }), []);
  assert.deepEqual(names({ scope: ['local'] }), ['back', 'bridge', 'front']);
  assert.deepEqual(names({ scope: ['swarm'] }), []);
  assert.deepEqual(names({ type: ['builtin'] }), ['bridge']);
  assert.deepEqual(names({ type: ['custom'] }), ['back', 'front']);
  assert.deepEqual(names({ dangling: ['true'] }), ['front']);
  assert.deepEqual(names({ dangling: ['0'] }), ['back', 'bridge']);
  throws(() => names({ type: ['other'] }), 'network_filter_invalid', "'type'='other'");
  throws(() => names({ dangling: ['maybe'] }), 'network_filter_invalid', 'dangling');
  throws(() => names({ colour: ['red'] }), 'network_filter_invalid', "'colour'");
});

test('prune removes the user networks nothing uses, with label and until filters, never the default', async (t) => {
  const s = open(t);
  s.networks.ensureDefault();
  s.networks.create({ name: 'idle1', labels: { keep: 'no' } });
  s.networks.create({ name: 'idle2', labels: { keep: 'yes' } });
  const used = s.networks.create({ name: 'used' });
  uses(s, container(s, 'c1'), used.id);
  const prune = async (f: Record<string, string[]>): Promise<string[]> => (await s.networks.prune(new Map(Object.entries(f)))).map((n) => n.name);
  assert.deepEqual(await prune({ until: ['2000-01-01T00:00:00Z'] }), []);
  assert.deepEqual(await prune({ 'label!': ['keep=yes'] }), ['idle1']);
  assert.deepEqual(await prune({}), ['idle2']);
  assert.deepEqual(s.networks.list().map((n) => n.name), ['bridge', 'used']);
  await assert.rejects(s.networks.prune(new Map([['dangling', ['true']]])), (e: unknown) => isBerthError(e, 'network_filter_invalid'));
});
