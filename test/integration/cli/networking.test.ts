/**
 * Networking through the real berth command line and berthd, observed on
 * the wire: the default network (a bridge and /24 of this daemon's own),
 * names and aliases on a user network, a way to the host and out through
 * NAT to a server in a namespace this test made, published TCP and UDP
 * ports answered from the host, isolation between user networks, a taken
 * host port refused before the container starts, and nothing left behind
 * (namespaces, veths, iptables rules, IPAM leases) after create/remove
 * cycles and after a kill -9 of berthd and its restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createContainer } from '../../helpers/berthd-process.ts';
import { startDaemon, show, type TestDaemon } from '../../helpers/daemon.ts';
import { outsideNamespace, startServer } from '../../helpers/network.ts';
import { TYPE, upstreamReply } from '../../unit/network/dns-fakes.ts';

let d: TestDaemon;
let udpEcho: string;
const CYCLES = Number(process.env['BERTH_TEST_NET_CYCLES'] ?? 200);

before(async () => {
  d = await startDaemon();
  udpEcho = join(d.scratch, 'udp-echo');
  execFileSync(process.env['CC'] ?? 'cc', ['-static', '-O1', '-Wall', '-Wextra', '-Werror', '-o', udpEcho, join(import.meta.dirname, '..', '..', 'helpers', 'udp-echo.c')]);
});
after(async () => {
  await d?.stop();
});

/** Polls `fn` until it gives a value (deadline, not a sleep). */
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const subnetPrefix = (): string => d.bip.split('.').slice(0, 3).join('.');

/** What the daemon's containers hold on the host now: namespaces, veths on its bridges, iptables lines of its addresses, IPAM leases. */
function footprint(bridges: readonly string[], prefixes: readonly string[]): Record<string, string[]> {
  const netnsDir = join(d.runRoot, 'netns');
  const ipamDir = join(d.root, 'network', 'ipam');
  const leases: string[] = [];
  if (existsSync(ipamDir)) {
    for (const net of readdirSync(ipamDir)) {
      for (const f of readdirSync(join(ipamDir, net))) if (/^\d+\.\d+\.\d+\.\d+$/.test(f)) leases.push(`${net}/${f}`);
    }
  }
  const veths = bridges.flatMap((b) =>
    existsSync(`/sys/class/net/${b}`) ? execFileSync('ip', ['-o', 'link', 'show', 'master', b], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '') : [],
  );
  const rules = execFileSync('iptables-save', { encoding: 'utf8' })
    .split('\n')
    .filter((l) => prefixes.some((p) => new RegExp(`${p.replace(/\./g, '\\.')}\\.\\d+/32`).test(l)));
  return { netns: existsSync(netnsDir) ? readdirSync(netnsDir) : [], veths, rules, leases };
}

function httpGetFromHost(port: number, path = '/hostname'): Promise<string> {
  return fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
}

function udpAsk(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from 127.0.0.1:${port}`));
    }, 3_000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(text, port, '127.0.0.1');
  });
}

test('the default network: an address of the daemon\'s bridge, a route through its gateway, /etc/hosts naming it', async () => {
  const out = await d.ok(['run', '--rm', '--hostname', 'probe', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0; ip route; grep probe /etc/hosts']);
  const prefix = subnetPrefix();
  const addr = new RegExp(`inet (${prefix.replace(/\./g, '\\.')}\\.\\d+)/24`).exec(out);
  assert.ok(addr, out);
  assert.match(out, new RegExp(`default via ${prefix.replace(/\./g, '\\.')}\\.1 dev eth0`));
  assert.match(out, new RegExp(`^${addr[1]!.replace(/\./g, '\\.')}\\tprobe$`, 'm'));
});

test('a bridged container started again joins that start\'s namespace through its spec\'s link; a spec from before the link is pointed at it once', async () => {
  const id = (await d.ok(['create', 'busybox', 'sh', '-c', 'echo "ns $(readlink /proc/self/ns/net)"; ip -4 -o addr show eth0; exec sleep 60'])).trim();
  try {
    const config = join(d.root, 'containers', id, 'config.json');
    const link = join(d.runRoot, 'containers', id, 'netns');
    type Namespaces = { linux: { namespaces: { type: string; path?: string }[] } };
    const spec = (): Namespaces => JSON.parse(readFileSync(config, 'utf8')) as Namespaces;
    const netnsOf = (): string | undefined => spec().linux.namespaces.find((n) => n.type === 'network')?.path;
    assert.equal(netnsOf(), link, 'create writes the link into the spec');
    /** Starts it and answers the namespace it runs in, checked against where the link points now. */
    const runOnce = async (n: number): Promise<string | undefined> => {
      await d.ok(['start', id]);
      const out = await until(`start ${n}'s output`, async () => {
        const text = await d.ok(['logs', id]);
        return text.split('\n').filter((l) => l.startsWith('ns ')).length === n && /inet /.test(text.split('ns ').at(-1) ?? '') ? text : undefined;
      });
      const ns = [...out.matchAll(/^ns net:\[(\d+)\]$/gm)].at(-1)?.[1];
      assert.equal(ns, String(statSync(link).ino), `start ${n}: the container's namespace is the link's target`);
      assert.match(out.split('ns ').at(-1) ?? '', new RegExp(`inet ${subnetPrefix().replace(/\./g, '\\.')}\\.\\d+/24`), 'on the network, not a namespace of its own');
      await d.ok(['stop', '-t', '0', id]);
      return ns;
    };
    await runOnce(1);
    await runOnce(2);
    // A spec written by an older berth names no path: the next start points it at the link.
    const old = spec();
    old.linux.namespaces = old.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network' } : n));
    writeFileSync(config, JSON.stringify(old));
    await runOnce(3);
    assert.equal(netnsOf(), link);
  } finally {
    await d.berth(['rm', '-f', id]);
  }
});

test('published TCP and UDP ports are answered from the host; berth port and ps show them; the port is freed at stop', async () => {
  const id = (
    await d.ok(['run', '-d', '-p', '127.0.0.1::80', '-p', '5353/udp', '-v', `${udpEcho}:/udp-echo:ro`, 'busybox', 'sh', '-c', 'httpd -p 80 -h /etc; exec /udp-echo 5353'])
  ).trim();
  try {
    const ports = await d.ok(['port', id]);
    const tcp = /^80\/tcp -> 127\.0\.0\.1:(\d+)$/m.exec(ports);
    const udp = /^5353\/udp -> 0\.0\.0\.0:(\d+)$/m.exec(ports);
    assert.ok(tcp && udp, ports);
    const tcpPort = Number(tcp[1]);
    const udpPort = Number(udp[1]);
    assert.equal((await until('httpd to answer through the published port', async () => httpGetFromHost(tcpPort).catch(() => undefined))).trim(), id.slice(0, 12));
    assert.equal(await until('the UDP echo through the published port', async () => udpAsk(udpPort, 'ping').catch(() => undefined)), 'echo:ping');
    assert.match(await d.ok(['ps', '--format', '{{.Ports}}', '--filter', `id=${id}`]), new RegExp(`127\\.0\\.0\\.1:${tcpPort}->80/tcp`));
    // Held while it runs: another process cannot take the host port.
    const taken = createServer();
    await assert.rejects(new Promise((res, rej) => taken.once('error', rej).listen(tcpPort, '127.0.0.1', () => res(undefined))), /EADDRINUSE/);
    await d.ok(['stop', '-t', '1', id]);
    const free = createServer();
    await new Promise<void>((res, rej) => free.once('error', rej).listen(tcpPort, '127.0.0.1', () => res()));
    await new Promise<void>((res) => free.close(() => res()));
  } finally {
    await d.berth(['rm', '-f', id]);
  }
});

test('a host port already taken is a clear error before the container starts; nothing of it is left', async () => {
  const server: Server = createServer();
  await new Promise<void>((res) => server.listen(0, '0.0.0.0', () => res()));
  const port = (server.address() as { port: number }).port;
  const before = footprint([d.bridge], [subnetPrefix()]);
  try {
    const r = await d.berth(['run', '--name', 'port-clash', '-p', `${port}:80`, 'busybox', 'true']);
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, new RegExp(`${port}/tcp.*(in use|already)`), show(r));
    const state = (await d.ok(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', 'port-clash'])).trim();
    assert.match(state, /^(created|exited) 0$/);
    assert.deepEqual(footprint([d.bridge], [subnetPrefix()]), before);
  } finally {
    await d.berth(['rm', '-f', 'port-clash']);
    await new Promise<void>((res) => server.close(() => res()));
  }
});

test('a user network: names and aliases resolve between its containers, a container\'s --dns gets what it forwards, other networks are unreachable', async () => {
  const x = 1 + Math.floor(Math.random() * 250);
  const front = `front-${x}`;
  const back = `back-${x}`;
  await d.ok(['network', 'create', '--subnet', `10.216.${x}.0/24`, front]);
  await d.ok(['network', 'create', '--subnet', `10.217.${x}.0/24`, back]);
  const started: string[] = [];
  try {
    started.push((await d.ok(['run', '-d', '--name', `web-${x}`, '--network', front, '--network-alias', 'www', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'])).trim());
    started.push((await d.ok(['run', '-d', '--name', `db-${x}`, '--network', back, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'])).trim());
    const dbIp = (await d.ok(['inspect', '--format', `{{(index .NetworkSettings.Networks "${back}").IPAddress}}`, `db-${x}`])).trim();
    assert.match(dbIp, new RegExp(`^10\\.217\\.${x}\\.\\d+$`));
    const out = await d.ok([
      'run', '--rm', '--network', front, 'busybox', 'sh', '-c',
      `cat /etc/resolv.conf; wget -qO- http://web-${x}/hostname; wget -qO- http://www/hostname; nslookup db-${x} >/dev/null 2>&1 && echo resolved-other || echo no-other-name; nc -w 2 ${dbIp} 80 </dev/null && echo reachable || echo isolated`,
    ]);
    assert.match(out, new RegExp(`^nameserver 10\\.216\\.${x}\\.1$`, 'm'), out);
    const short = started[0]!.slice(0, 12);
    assert.equal(out.split('\n').filter((l) => l === short).length, 2, out);
    assert.match(out, /no-other-name/);
    // busybox's wget -T crashes (SIGSEGV) in this build: nc's connect timeout tells a dropped connection instead.
    assert.match(out, /^isolated$/m);
    // Its own --dns: the resolver forwards what it asks there (a server this test runs on the host's loopback).
    const fake = createSocket('udp4');
    fake.on('message', (q, from) => fake.send(upstreamReply(q, { answers: [[TYPE.A, Buffer.from([10, 9, 9, 9])]] }), from.port, from.address));
    await new Promise<void>((res) => fake.bind(53, '127.0.0.77', () => res()));
    try {
      const own = await d.ok(['run', '--rm', '--network', front, '--dns', '127.0.0.77', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; nslookup outside-name.test']);
      assert.match(own, new RegExp(`^nameserver 10\\.216\\.${x}\\.1$`, 'm'), own);
      assert.match(own, /Address: 10\.9\.9\.9/, own);
    } finally {
      fake.close();
    }
    // Connected to the other network as well, it reaches db by its address there.
    await d.ok(['network', 'connect', back, `web-${x}`]);
    const across = await d.ok(['exec', `web-${x}`, 'wget', '-qO-', `http://${dbIp}/hostname`]);
    assert.equal(across.trim(), started[1]!.slice(0, 12));
    // /etc/hosts inside follows: its address on each network, with its name (the file is rewritten in place, as docker does).
    const webOnBack = (await d.ok(['inspect', '--format', `{{(index .NetworkSettings.Networks "${back}").IPAddress}}`, `web-${x}`])).trim();
    const hostsNow = await d.ok(['exec', `web-${x}`, 'cat', '/etc/hosts']);
    assert.match(hostsNow, new RegExp(`^10\\.216\\.${x}\\.\\d+\\t${short}$`, 'm'), hostsNow);
    assert.match(hostsNow, new RegExp(`^${webOnBack.replace(/\./g, '\\.')}\\t${short}$`, 'm'), hostsNow);
    await d.ok(['network', 'disconnect', back, `web-${x}`]);
    const hostsAfter = await d.ok(['exec', `web-${x}`, 'cat', '/etc/hosts']);
    assert.doesNotMatch(hostsAfter, new RegExp(`^${webOnBack.replace(/\./g, '\\.')}\\t`, 'm'), hostsAfter);
    assert.match(hostsAfter, new RegExp(`^10\\.216\\.${x}\\.\\d+\\t${short}$`, 'm'), hostsAfter);
    const rm = await d.berth(['network', 'rm', front]);
    assert.notEqual(rm.code, 0, 'a network in use is not removed');
  } finally {
    for (const id of started) await d.berth(['rm', '-f', id]);
    await d.berth(['network', 'rm', front, back]);
  }
  assert.equal(existsSync(`/sys/class/net/${front}`), false);
});

test('to the host and out through NAT to a server in another namespace (never an outside address)', async (t) => {
  const outside = await outsideNamespace(t);
  // The outside namespace routes only its own /30: an answer comes back only when the host masqueraded the container's packets.
  await startServer(t, outside.netns, 'tcp', 8099, 'from-outside\n');
  // The host routes to it; the container's packets leave the bridge masqueraded as the host.
  const hostServer = createServer((c) => c.end(`peer ${c.remoteAddress}\n`));
  await new Promise<void>((res) => hostServer.listen(0, '0.0.0.0', () => res()));
  const hostPort = (hostServer.address() as { port: number }).port;
  try {
    const gateway = `${subnetPrefix()}.1`;
    const out = await d.ok(['run', '--rm', 'busybox', 'sh', '-c', `nc -w 3 ${gateway} ${hostPort} </dev/null; nc -w 3 ${outside.address} 8099 </dev/null`]);
    assert.match(out, new RegExp(`^peer (::ffff:)?${subnetPrefix().replace(/\./g, '\\.')}\\.\\d+$`, 'm'), out);
    assert.match(out, /^from-outside$/m, out);
  } finally {
    await new Promise<void>((res) => hostServer.close(() => res()));
  }
});

test(`${CYCLES} create/start/remove cycles, then kill -9 of berthd with containers running and its restart: nothing is left behind`, async () => {
  const prefixes = [subnetPrefix()];
  const before = footprint([d.bridge], prefixes);
  // Through the API, as the CLI sends them (the CLI's own start-up is not what is tested here).
  for (let i = 0; i < CYCLES; i++) {
    const id = await createContainer(d.client, ['true'], { publish: ['0:80'] });
    await d.client.json('POST', `/containers/${id}/start`);
    await d.client.json('DELETE', `/containers/${id}`, { query: { force: true } });
  }
  assert.deepEqual(footprint([d.bridge], prefixes), before);
  const running = (await d.ok(['run', '-d', '-p', '127.0.0.1::80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'])).trim();
  const quick = (await d.ok(['run', '-d', 'busybox', 'sh', '-c', 'sleep 1'])).trim();
  const port = Number(/:(\d+)$/m.exec(await d.ok(['port', running, '80']))![1]);
  await d.kill9();
  // While the daemon is down, one container exits: its network must be released by the restart.
  await until('the short container to exit', () => Promise.resolve(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').includes('sleep 1') ? undefined : true), 10_000);
  await d.restart();
  assert.equal((await until('the adopted container to answer on its port', async () => httpGetFromHost(port).catch(() => undefined))).trim(), running.slice(0, 12));
  assert.match((await d.ok(['inspect', '--format', '{{.State.Status}}', quick])).trim(), /^exited$/);
  await d.ok(['rm', '-f', running, quick]);
  assert.deepEqual(footprint([d.bridge], prefixes), before);
});
