/**
 * For the network layer's integration tests (root): a private root and run
 * root with an engine database, network records with their own bridge
 * names (`bt<hex>`) and subnets (10.213.x.0/24), servers and clients run
 * inside namespaces with nsenter, and the leak check: what a test made
 * must be gone from RUNROOT/netns, the mount table, the bridges, the IPAM
 * directory and iptables. Everything is removed after the test, also on
 * failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { TestContext } from 'node:test';
import { openEngineDatabase } from '../../src/engine/store/db.ts';
import { readLeases } from '../../src/network/cni/leases.ts';
import { removeNetworkRules } from '../../src/network/firewall.ts';
import { listNetns, netnsDir } from '../../src/network/netns.ts';
import { Sandboxes, type SandboxesOptions } from '../../src/network/sandboxes.ts';
import type { AttachRequest, NetworkRecord } from '../../src/network/types.ts';
import type { PortRequest } from '../../src/engine/spec/ports.ts';
import { onCleanup } from './cleanup.ts';

/** Deletes an interface; one that never was made is fine. */
export function deleteLink(name: string): void {
  try {
    execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
  } catch {
    // Not there.
  }
}

export interface NetFixture {
  root: string;
  runRoot: string;
  db: DatabaseSync;
  sandboxes(options?: SandboxesOptions): Sandboxes;
  network(options?: { internal?: boolean; ipRange?: string }): NetworkRecord;
  container(): string;
  records: NetworkRecord[];
}

function freeThirdOctet(): number {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (;;) {
    const x = 1 + Math.floor(Math.random() * 250);
    if (!routes.includes(`10.213.${x}.`)) return x;
  }
}

export function netFixture(t: TestContext): NetFixture {
  const root = mkdtempSync('/tmp/bnr-');
  const runRoot = mkdtempSync('/tmp/bn-');
  const db = openEngineDatabase(join(root, 'berth.db'));
  const records: NetworkRecord[] = [];
  const opened: Sandboxes[] = [];
  onCleanup(t, () => {
    rmSync(root, { recursive: true, force: true });
    rmSync(runRoot, { recursive: true, force: true });
  });
  onCleanup(t, async () => {
    // Whatever a failing test left: release every sandbox the database names, then the bridges and rules.
    const sb = new Sandboxes(db, { root, runRoot });
    for (const row of db.prepare('SELECT id FROM engine_sandboxes').all()) await sb.release(String(row['id'])).catch(() => undefined);
    await sb.sweep();
    for (const s of opened) await s.close();
    for (const r of records) {
      deleteLink(r.bridge);
      await removeNetworkRules(r);
    }
    db.close();
  });
  return {
    root,
    runRoot,
    db,
    records,
    sandboxes(options = {}) {
      const s = new Sandboxes(db, { root, runRoot }, options);
      opened.push(s);
      return s;
    },
    network(options = {}) {
      const x = freeThirdOctet();
      const id = randomBytes(32).toString('hex');
      const record: NetworkRecord = {
        id,
        name: `net-${id.slice(0, 6)}`,
        driver: 'bridge',
        bridge: `bt${id.slice(0, 8)}`,
        subnet: `10.213.${x}.0/24`,
        gateway: `10.213.${x}.1`,
        internal: options.internal ?? false,
        dns: true,
        labels: {},
        options: {},
        created: new Date().toISOString(),
      };
      if (options.ipRange !== undefined) record.ipRange = options.ipRange.replace('X', String(x));
      db.prepare(
        `INSERT INTO engine_networks (id, name, driver, bridge, subnet, gateway, ip_range, internal, dns, created_at) VALUES (?, ?, 'bridge', ?, ?, ?, ?, ?, 1, ?)`,
      ).run(id, record.name, record.bridge, record.subnet, record.gateway, record.ipRange ?? null, record.internal ? 1 : 0, record.created);
      records.push(record);
      // Registered after the sandboxes' cleanup, so it runs before it: bridges still exist while DEL runs.
      return record;
    },
    container() {
      const id = randomBytes(32).toString('hex');
      db.prepare(
        `INSERT INTO engine_containers (id, name, image_ref, image_id, created_at, options, state, restart_policy) VALUES (?, ?, 'busybox', 'sha256:0', ?, '{}', 'running', 'no')`,
      ).run(id, `c-${id.slice(0, 8)}`, new Date().toISOString());
      return id;
    },
  };
}

/** The common start of a test: a fixture, one network, a Sandboxes and the iptables lines before. */
export function netSetup(t: TestContext): { f: NetFixture; net: NetworkRecord; sb: Sandboxes; before: Set<string> } {
  const f = netFixture(t);
  const before = iptablesLines();
  return { f, net: f.network(), sb: f.sandboxes(), before };
}

/** A published TCP port asking for any free host port on `hostIp`. */
export function anyTcpPort(containerPort = 80, hostIp = '127.0.0.1'): PortRequest {
  return { hostIp, hostPort: 0, containerPort, protocol: 'tcp' };
}

export function request(network: NetworkRecord, extra: Partial<AttachRequest> = {}): AttachRequest {
  return { network, containerId: '', containerName: '', aliases: [], ports: [], ...extra };
}

/** Runs a command inside a namespace file; its stdout. */
export function inNetns(netns: string, ...cmd: string[]): string {
  return execFileSync('nsenter', [`--net=${netns}`, ...cmd], { encoding: 'utf8', timeout: 20_000 });
}

const SERVER = `
const [proto, port, reply] = process.argv.slice(1);
if (proto === 'tcp') {
  require('node:net').createServer((c) => { c.end(reply + ' ' + c.remoteAddress + '\\n'); })
    .listen(Number(port), '0.0.0.0', () => console.log('ready'));
} else {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m, r) => s.send(reply + ' ' + r.address + '\\n', r.port, r.address));
  s.bind(Number(port), '0.0.0.0', () => console.log('ready'));
}`;

/** A server in a namespace answering `<reply> <peer address>`; stopped after the test. */
export async function startServer(t: TestContext, netns: string, proto: 'tcp' | 'udp', port: number, reply: string): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=${netns}`, process.execPath, '-e', SERVER, proto, String(port), reply], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(t, () => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server in ${netns} exited (${code})`)));
    child.stdout.once('data', () => resolve());
  });
  return child;
}

const CLIENT = `
const [proto, host, port] = process.argv.slice(1);
const done = (t) => { process.stdout.write(t); process.exit(0); };
setTimeout(() => { process.stdout.write('timeout'); process.exit(2); }, 3000);
if (proto === 'tcp') {
  const c = require('node:net').connect(Number(port), host);
  let out = ''; c.on('data', (d) => out += d); c.on('end', () => done(out)); c.on('error', (e) => done('error ' + e.code));
} else {
  const s = require('node:dgram').createSocket('udp4');
  s.on('message', (m) => done(String(m)));
  s.send('hi', Number(port), host);
}`;

/** Connects from a namespace (or the host: null) and returns what the server said, `error CODE` or `timeout`. */
export function client(netns: string | null, proto: 'tcp' | 'udp', host: string, port: number): string {
  const argv = [process.execPath, '-e', CLIENT, proto, host, String(port)];
  const cmd = netns === null ? argv : ['nsenter', `--net=${netns}`, ...argv];
  try {
    return execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (err) {
    const e = err as { stdout?: string };
    return (e.stdout ?? 'failed').trim();
  }
}

/**
 * What the plugins set up once per host and never remove (their shared
 * chains and the jumps to them), and berth's isolation chains, which stay
 * while a network exists (firewall.test.ts checks they go with it).
 */
const SHARED_RULES = [
  /^:CNI-(ADMIN|FORWARD|HOSTPORT-DNAT|HOSTPORT-MASQ|HOSTPORT-SETMARK) /,
  /^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-(DNAT|MASQ)$/,
  /^-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000\/0x2000 -j MASQUERADE$/,
  /^-A CNI-HOSTPORT-SETMARK .*-j MARK --set-xmark 0x2000\/0x2000$/,
  /^-A FORWARD .*-j CNI-FORWARD$/,
  /^-A CNI-FORWARD .*-j CNI-ADMIN$/,
  /BERTH-(ISOLATION-STAGE-[12]|MASQUERADE)/,
];

/** iptables lines without counters, for a before/after comparison. */
export function iptablesLines(): Set<string> {
  const out = execFileSync('iptables-save', { encoding: 'utf8' });
  return new Set(out.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')));
}

/** What is left of a fixture's sandboxes: empty when nothing leaked. */
export function leaks(f: NetFixture, before: Set<string>): string[] {
  const out: string[] = [];
  for (const name of listNetns(netnsDir(f.runRoot))) out.push(`netns file ${name}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  if (mounts.includes(netnsDir(f.runRoot))) out.push('a namespace mount under the run root');
  for (const r of f.records) {
    let members = '';
    try {
      members = execFileSync('ip', ['-o', 'link', 'show', 'master', r.bridge], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      // No bridge, no members.
    }
    if (members !== '') out.push(`interfaces on ${r.bridge}: ${members}`);
    for (const l of readLeases(join(f.root, 'network', 'ipam'), r.id)) out.push(`lease ${l.ip} of ${l.containerId.slice(0, 12)}`);
  }
  const rows = f.db.prepare('SELECT count(*) AS n FROM engine_sandboxes').get();
  if (Number(rows?.['n']) !== 0) out.push(`${String(rows?.['n'])} sandbox rows`);
  // Other tests (and engineers) may change iptables meanwhile: only lines naming this fixture's
  // networks count (their ids, bridges and subnets; CNI's rules carry the address or an id comment).
  const marks = f.records.flatMap((r) => [r.id, r.bridge, `${r.subnet.split('.').slice(0, 3).join('.')}.`]);
  for (const line of iptablesLines()) {
    if (before.has(line) || SHARED_RULES.some((re) => re.test(line))) continue;
    if (marks.some((m) => line.includes(m))) out.push(`iptables: ${line}`);
  }
  return out;
}

/**
 * A namespace outside every berth network, the host routing to it over a
 * veth pair (10.214.x.1 on the host, 10.214.x.2 inside): the "internet" a
 * NAT test reaches, never an outside address.
 */
export async function outsideNamespace(t: TestContext): Promise<{ netns: string; address: string; hostAddress: string }> {
  const { createNetns, removeNetns } = await import('../../src/network/netns.ts');
  const dir = mkdtempSync('/tmp/bno-');
  const netns = join(dir, 'outside');
  const x = 1 + Math.floor(Math.random() * 250);
  const host = `bv${randomBytes(4).toString('hex')}`;
  await createNetns(netns);
  onCleanup(t, async () => {
    deleteLink(host);
    await removeNetns(netns);
    rmSync(dir, { recursive: true, force: true });
  });
  const ip = (...args: string[]): void => {
    execFileSync('ip', args);
  };
  ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  ip('addr', 'add', `10.214.${x}.1/30`, 'dev', host);
  ip('link', 'set', host, 'up');
  inNetns(netns, 'ip', 'addr', 'add', `10.214.${x}.2/30`, 'dev', 'eth0');
  inNetns(netns, 'ip', 'link', 'set', 'eth0', 'up');
  inNetns(netns, 'ip', 'link', 'set', 'lo', 'up');
  return { netns, address: `10.214.${x}.2`, hostAddress: `10.214.${x}.1` };
}

/** The host's first non-loopback IPv4 address that is not a test's own interface, if it has one. */
export function hostAddress(): string | undefined {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (name === 'lo' || name.startsWith('bt') || name.startsWith('bv') || name.startsWith('veth')) continue;
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a !== undefined) return a.address;
  }
  return undefined;
}
