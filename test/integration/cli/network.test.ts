/**
 * `berth network` and Docker's /networks through the real command lines
 * and a real berthd, as root: create, ls, inspect, rm and prune; bad input
 * refused with a message naming it and nothing changed (the database read
 * directly, and no host interface made: a network record makes none, the
 * CNI bridge plugin does at the first attachment); the real docker CLI
 * doing the same against berthd's socket; a network a container names
 * refused for rm and prune until the container is gone; connect and
 * disconnect of a running container observed inside it and in inspect.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { runCommand, show, startDaemon, type CliResult, type TestDaemon } from '../../helpers/daemon.ts';

let d: TestDaemon;
before(async () => {
  d = await startDaemon();
});
after(async () => {
  await d?.stop();
});

/** engine_networks as the daemon wrote it. */
function rows(): Record<string, unknown>[] {
  const db = new DatabaseSync(join(d.root, 'berth.db'), { readOnly: true });
  try {
    return db.prepare('SELECT * FROM engine_networks ORDER BY name').all();
  } finally {
    db.close();
  }
}

const linkExists = (name: string): boolean => existsSync(`/sys/class/net/${name}`);

function refused(r: CliResult, ...parts: string[]): void {
  assert.notEqual(r.code, 0, show(r));
  // inspect prints what it found, as docker: an empty array.
  assert.ok(r.stdout === '' || r.stdout === '[]\n', show(r));
  for (const p of parts) assert.ok(r.stderr.includes(p), `stderr should name ${p}: ${show(r)}`);
}

test('create, ls, inspect, rm and prune with the real CLI; a network record makes no interface', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  assert.equal(await d.ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']), 'bridge bridge local\n');
  const bridgeRow = rows()[0]!;
  // The test daemon's own bridge and /24 (--bridge, --bip), not berth0 and 172.17.0.0/16, so daemons do not share one.
  assert.equal(bridgeRow['bridge'], d.bridge);
  assert.equal(bridgeRow['gateway'], d.bip.split('/')[0]);
  assert.equal(await d.ok(['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}} {{range .IPAM.Config}}{{.Gateway}}{{end}}', 'bridge']), `${d.bridge} ${String(bridgeRow['gateway'])}\n`);
  assert.equal(bridgeRow['dns'], 0);

  const frontId = (await d.ok(['network', 'create', 'front'])).trim();
  assert.match(frontId, /^[0-9a-f]{64}$/);
  const own = `brt-${randomBytes(4).toString('hex')}`;
  const backId = (
    await d.ok(['network', 'create', '--subnet', '10.123.0.0/24', '--gateway', '10.123.0.254', '--ip-range', '10.123.0.128/25', '--internal', '--label', 'tier=db', '-o', `com.docker.network.bridge.name=${own}`, 'back'])
  ).trim();

  const table = await d.ok(['network', 'ls']);
  assert.match(table, /^NETWORK ID +NAME +DRIVER +SCOPE\n/);
  assert.ok(table.includes(`${backId.slice(0, 12)}   back      bridge    local\n`), table);
  assert.ok(table.includes(`${frontId.slice(0, 12)}   front     bridge    local\n`), table);
  assert.equal(await d.ok(['network', 'ls', '-q', '--no-trunc', '--filter', 'name=^fr']), `${frontId}\n`);
  assert.equal(await d.ok(['network', 'ls', '--filter', 'label=tier=db', '--format', '{{.Name}} {{.Internal}} {{.Label "tier"}}']), 'back true db\n');
  assert.equal(await d.ok(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}}']), 'bridge\n');

  assert.equal(
    await d.ok(['network', 'inspect', '-f', '{{.Id}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{.Internal}} {{.Labels.tier}}', 'back']),
    `${backId} 10.123.0.0/24 10.123.0.254 10.123.0.128/25 true db\n`,
  );
  const both = JSON.parse(await d.ok(['network', 'inspect', 'front', backId.slice(0, 10)])) as { Name: string; Scope: string; Containers: object; IPAM: { Config: { Subnet: string }[] } }[];
  assert.deepEqual(both.map((n) => [n.Name, n.Scope, n.Containers]), [['front', 'local', {}], ['back', 'local', {}]]);
  assert.match(both[0]!.IPAM.Config[0]!.Subnet, /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/, 'a subnet of docker\'s default pools');

  const stored = rows();
  assert.deepEqual(stored.map((r) => [r['name'], r['subnet'], r['internal'], r['dns']]), [
    ['back', '10.123.0.0/24', 1, 1],
    ['bridge', bridgeRow['subnet'], 0, 0],
    ['front', both[0]!.IPAM.Config[0]!.Subnet, 0, 1],
  ]);
  assert.equal(stored[0]!['bridge'], own);
  assert.equal(stored[2]!['bridge'], `berth-${frontId.slice(0, 9)}`);
  for (const r of stored.filter((x) => x['name'] !== 'bridge')) assert.equal(linkExists(String(r['bridge'])), false, `no interface ${String(r['bridge'])}`);

  const rm = await d.berth(['network', 'rm', 'front', 'missing', 'back']);
  assert.equal(rm.code, 1, show(rm));
  assert.equal(rm.stdout, 'front\nback\n');
  assert.match(rm.stderr, /network missing not found/);
  assert.deepEqual(rows().map((r) => r['name']), ['bridge']);

  await d.ok(['network', 'create', '--label', 'k=v', 'idle']);
  const no = await d.berth(['network', 'prune'], { input: 'n\n' });
  assert.equal(no.code, 0, show(no));
  assert.equal(no.stdout, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
  assert.deepEqual(rows().map((r) => r['name']), ['bridge', 'idle']);
  assert.equal(await d.ok(['network', 'prune', '-f', '--filter', 'label!=k=v']), '\n');
  const yes = await d.berth(['network', 'prune'], { input: 'y\n' });
  assert.equal(yes.stdout, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] Deleted Networks:\nidle\n\n', show(yes));
  assert.deepEqual(rows().map((r) => r['name']), ['bridge']);

  const events = await d.ok(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  assert.equal(events, 'create front\ncreate back\ndestroy front\ndestroy back\ncreate idle\ndestroy idle\n');
});

test('bad input is refused with a message naming it, and changes nothing', async () => {
  await d.ok(['network', 'create', '--subnet', '10.124.0.0/24', 'taken']);
  const before = rows();
  const own = `brt-${randomBytes(4).toString('hex')}`;
  refused(await d.berth(['network', 'create', '--subnet', '10.124.0.0/16', '-o', `com.docker.network.bridge.name=${own}`, 'over']), 'subnet 10.124.0.0/16 overlaps subnet 10.124.0.0/24 of network "taken"');
  refused(await d.berth(['network', 'create', '--subnet', '10.125.0.0/33', 'badcidr']), '10.125.0.0/33', 'prefix length');
  refused(await d.berth(['network', 'create', '--subnet', '10.125.0.7/24', 'badcidr']), 'it should be 10.125.0.0/24');
  refused(await d.berth(['network', 'create', '--subnet', '10.125.0.0/24', '--gateway', '10.126.0.1', 'gwout']), 'gateway 10.126.0.1', 'not inside subnet 10.125.0.0/24');
  refused(await d.berth(['network', 'create', '--gateway', '10.126.0.1', 'nosubnet']), 'corresponding subnet');
  refused(await d.berth(['network', 'create', '-d', 'macvlan', 'mv']), 'driver "macvlan" is not supported');
  refused(await d.berth(['network', 'create', '-o', 'com.docker.network.bridge.name=lo', 'lo-bridge']), 'exists on the host');
  refused(await d.berth(['network', 'create', '-o', 'com.docker.network.driver.mtu=9', 'tiny']), 'com.docker.network.driver.mtu="9"', 'not an MTU');
  refused(await d.berth(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'icc']), 'driver option "com.docker.network.bridge.enable_icc" is not supported');
  refused(await d.berth(['network', 'create', 'taken']), 'network with name taken already exists');
  refused(await d.berth(['network', 'create', 'host']), 'predefined host network');
  refused(await d.berth(['network', 'inspect', 'nope']), 'network nope not found');
  refused(await d.berth(['network', 'rm', 'bridge']), 'bridge is a pre-defined network and cannot be removed');
  refused(await d.berth(['network', 'rm', 'nope']), 'network nope not found');
  refused(await d.berth(['network', 'ls', '--filter', 'colour=red']), "invalid filter 'colour'");
  assert.deepEqual(rows(), before);
  assert.equal(linkExists(own), false);
  for (const r of before.filter((x) => x['name'] !== 'bridge')) assert.equal(linkExists(String(r['bridge'])), false);
  assert.equal(await d.ok(['network', 'rm', 'taken']), 'taken\n');
});

test('a network a container names cannot be removed or pruned until the container is gone', async () => {
  const netId = (await d.ok(['network', 'create', 'held'])).trim();
  const cid = (await d.ok(['create', '--name', 'holder', 'busybox', 'true'])).trim();
  // What the engine's create writes for `--network held` (engine_container_networks); written here
  // directly while the engine runs without a network layer, so the refusal is seen through berthd.
  const db = new DatabaseSync(join(d.root, 'berth.db'), { timeout: 10_000 });
  try {
    db.prepare('INSERT INTO engine_container_networks (container_id, network_id) VALUES (?, ?)').run(cid, netId);
  } finally {
    db.close();
  }
  const before = rows();
  refused(await d.berth(['network', 'rm', 'held']), 'network held', 'has active endpoints', cid.slice(0, 12));
  assert.equal(await d.ok(['network', 'prune', '-f']), '\n');
  assert.equal(await d.ok(['network', 'ls', '--filter', 'dangling=false', '--format', '{{.Name}}']), 'bridge\nheld\n');
  assert.deepEqual(rows(), before);
  await d.ok(['rm', 'holder']);
  assert.equal(await d.ok(['network', 'rm', 'held']), 'held\n');
});

/** A /24 under 10.216.0.0/16 that no route of the host uses (test daemons' default networks are under 10.215.0.0/16). */
function freeSubnet(): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (;;) {
    const x = 1 + Math.floor(Math.random() * 250);
    if (!routes.includes(`10.216.${x}.`)) return `10.216.${x}.0/24`;
  }
}

test('connect and disconnect a running container: the address inside, inspect\'s Containers, rm refused while attached, the bridge gone with the network', async () => {
  const subnet = freeSubnet();
  const prefix = subnet.slice(0, subnet.lastIndexOf('.'));
  const netId = (await d.ok(['network', 'create', '--subnet', subnet, 'joined'])).trim();
  const bridge = `berth-${netId.slice(0, 9)}`;
  const cid = (await d.ok(['run', '-d', '--name', 'joiner', 'busybox', 'sleep', '1000'])).trim();
  await d.ok(['network', 'connect', '--alias', 'db', '--ip', `${prefix}.77`, 'joined', 'joiner']);
  const inside = await d.ok(['exec', 'joiner', 'ip', '-o', '-4', 'addr', 'show']);
  assert.match(inside, new RegExp(`inet ${prefix.replaceAll('.', '\\.')}\\.77/24`), inside);
  assert.equal(linkExists(bridge), true, 'the CNI bridge plugin made the bridge at the first attach');
  const containers = JSON.parse(await d.ok(['network', 'inspect', '-f', '{{json .Containers}}', 'joined'])) as Record<string, { Name: string; IPv4Address: string; MacAddress: string; EndpointID: string }>;
  assert.deepEqual(Object.keys(containers), [cid]);
  assert.equal(containers[cid]!.Name, 'joiner');
  assert.equal(containers[cid]!.IPv4Address, `${prefix}.77/24`);
  assert.match(containers[cid]!.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.match(containers[cid]!.EndpointID, /^[0-9a-f]{64}$/);
  assert.match(inside, new RegExp(`${containers[cid]!.IPv4Address.split('/')[0]!.replaceAll('.', '\\.')}`));
  refused(await d.berth(['network', 'rm', 'joined']), 'has active endpoints');

  await d.ok(['network', 'disconnect', 'joined', 'joiner']);
  assert.doesNotMatch(await d.ok(['exec', 'joiner', 'ip', '-o', '-4', 'addr', 'show']), new RegExp(`${prefix.replaceAll('.', '\\.')}\\.`));
  assert.equal(await d.ok(['network', 'inspect', '-f', '{{len .Containers}}', 'joined']), '0\n');
  refused(await d.berth(['network', 'disconnect', 'joined', 'joiner']), 'joiner', 'not connected');
  await d.ok(['rm', '-f', 'joiner']);
  assert.equal(await d.ok(['network', 'rm', 'joined']), 'joined\n');
  assert.equal(linkExists(bridge), false, 'the bridge goes with the network');
});

function dockerPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const DOCKER = dockerPath();

test('the docker CLI: network create, ls, inspect, connect, disconnect, rm and prune against berthd', { skip: DOCKER === undefined ? 'no docker CLI on PATH (scripts/install.sh does not install one)' : false }, async () => {
  const docker = (args: string[]): Promise<CliResult> =>
    runCommand(DOCKER!, args, { env: { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: d.scratch, DOCKER_CONTEXT: '' }, timeoutMs: 30_000 });
  const created = await docker(['network', 'create', '--subnet', '10.127.0.0/24', '--label', 'from=docker', 'dnet']);
  assert.equal(created.code, 0, show(created));
  const id = created.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal((await d.ok(['network', 'inspect', '-f', '{{.Id}}', 'dnet'])).trim(), id);

  const ls = await docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
  assert.equal(ls.stdout, 'bridge bridge local\ndnet bridge local\n', show(ls));
  const table = await docker(['network', 'ls', '--filter', 'label=from=docker']);
  assert.match(table.stdout, new RegExp(`^NETWORK ID +NAME +DRIVER +SCOPE\\n${id.slice(0, 12)} +dnet +bridge +local\\n$`), show(table));
  const inspect = await docker(['network', 'inspect', '-f', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels}} {{.EnableIPv6}}', 'dnet']);
  assert.equal(inspect.stdout, 'dnet 10.127.0.0/24 10.127.0.1 map[from:docker] false\n', show(inspect));

  const v6 = await docker(['network', 'create', '--ipv6', 'v6']);
  assert.notEqual(v6.code, 0);
  assert.match(v6.stderr, /EnableIPv6/, show(v6));
  const overlap = await docker(['network', 'create', '--subnet', '10.127.0.128/25', 'd2']);
  assert.notEqual(overlap.code, 0);
  assert.match(overlap.stderr, /overlaps subnet 10\.127\.0\.0\/24 of network "dnet"/, show(overlap));
  const rmDefault = await docker(['network', 'rm', 'bridge']);
  assert.notEqual(rmDefault.code, 0);
  assert.match(rmDefault.stderr, /bridge is a pre-defined network and cannot be removed/, show(rmDefault));

  const rm = await docker(['network', 'rm', 'dnet']);
  assert.equal(rm.stdout, 'dnet\n', show(rm));
  const again = await docker(['network', 'rm', 'dnet']);
  assert.equal(again.code, 1, show(again));
  assert.match(again.stderr, /network dnet not found/);

  const subnet = freeSubnet();
  assert.equal((await docker(['network', 'create', '--subnet', subnet, 'dconn'])).code, 0);
  await d.ok(['run', '-d', '--name', 'dc1', 'busybox', 'sleep', '1000']);
  const connect = await docker(['network', 'connect', '--alias', 'web', 'dconn', 'dc1']);
  assert.equal(connect.code, 0, show(connect));
  const attached = await docker(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}', 'dconn']);
  assert.match(attached.stdout, new RegExp(`^dc1 ${subnet.slice(0, subnet.lastIndexOf('.')).replaceAll('.', '\\.')}\\.\\d+/24\n$`), show(attached));
  const disconnect = await docker(['network', 'disconnect', 'dconn', 'dc1']);
  assert.equal(disconnect.code, 0, show(disconnect));
  assert.equal((await docker(['network', 'inspect', '-f', '{{len .Containers}}', 'dconn'])).stdout, '0\n');
  await d.ok(['rm', '-f', 'dc1']);
  assert.equal((await docker(['network', 'rm', 'dconn'])).stdout, 'dconn\n');

  await d.ok(['network', 'create', 'idle']);
  const dangling = await docker(['network', 'ls', '-q', '--no-trunc', '--filter', 'dangling=true']);
  assert.equal(dangling.stdout, `${(await d.ok(['network', 'inspect', '-f', '{{.Id}}', 'idle'])).trim()}\n`, show(dangling));
  const prune = await docker(['network', 'prune', '-f']);
  assert.equal(prune.stdout, 'Deleted Networks:\nidle\n\n', show(prune));
  assert.deepEqual(rows().map((r) => r['name']), ['bridge']);
});
