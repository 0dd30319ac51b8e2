/**
 * The gateway's warm path through berth-relay (src/faas/relay.ts), in a
 * real berthd (as root), observed on the wire and on the host: which
 * process holds the gateway's end of a client's connection (`ss -p`), what
 * each answer carries, and what metrics and /system/usage count.
 *
 * - many kept-alive calls on one connection go through the relay to the
 *   replica, each with its own X-Call-Id and its body, and the metrics and
 *   usage count exactly them (CPU from the watchdog's account, which the
 *   client never sees);
 * - a connection whose next request is for another function stays with the
 *   relay; one for /system, for no function, or with a body too large to
 *   hold is handed to the gateway's HTTP server unread and answered right
 *   from then on;
 * - replicas retired while one connection keeps calling (scale down, an
 *   update) lose no call, and every call is counted once;
 * - the relay's channel to berthd has no path (a socketpair), it runs as
 *   nobody, and a replica serving :8080 itself cannot bill its calls
 *   through it;
 * - malformed heads are the gateway's to refuse, and the relay survives them;
 * - berthd stopping lets a relayed call in flight finish; a relay killed
 *   leaves the gateway serving every call through Node.js at the same
 *   address.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fetchUsage, gatewayAuth } from '../../../src/cli/berth/commands/fn/usage.ts';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { gatewayClient, importCgiImage, type GatewayClient } from '../../helpers/faas.ts';

/** busybox httpd serving :8080 itself, whose CGI claims a bill of 999 CPU-seconds. */
const LIAR_IMAGE = 'faas-liar:latest';

let d: TestDaemon;
let gw: GatewayClient;
const agents: Agent[] = [];

before(async () => {
  d = await startDaemon({
    gateway: true,
    prepare: (images, scratch) =>
      importCgiImage(images, join(scratch, 'liar'), LIAR_IMAGE, {
        bill: '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\nContent-Length: 7\\r\\nX-Berth-Usage: cpu_us=999000000 maxrss_kb=1 exit=0\\r\\n\\r\\nbilled\\n"\n',
      }),
  });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  for (const a of agents) a.destroy();
  await d?.stop();
});

/** One kept-alive connection to the gateway: every request of this agent goes on the same socket. */
function connection(): Agent {
  const a = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(a);
  return a;
}

interface Answer {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  /** The client's port: the same for calls on one connection. */
  port: number;
}

function call(agent: Agent, path: string, o: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(path, gw.base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: o.method ?? 'GET', agent, headers: o.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      const port = res.socket.localPort ?? 0;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers, trailers: res.trailers, port }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(o.body);
  });
}

/** Who holds the gateway's end of the client's connection from `port`: the process names `ss -p` shows. */
function holders(port: number): string[] {
  const gwPort = new URL(gw.base).port;
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${gwPort} and dport = :${port} )`], { encoding: 'utf8' });
  return [...out.matchAll(/\("([^"]+)",pid=/g)].map((m) => m[1] ?? '').sort();
}

/** The relay's process ID: the holder of the gateway's listening socket. */
function relayPid(): number {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${new URL(gw.base).port}`], { encoding: 'utf8' });
  const m = /\("berth-relay",pid=(\d+),/.exec(out);
  assert.ok(m !== null, `berth-relay holds the gateway's listening socket: ${out}`);
  return Number(m[1]);
}

const metrics = async (): Promise<string> => (await gw.fetch('/metrics', { auth: false })).text();

function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function deploy(body: Record<string, unknown>): Promise<void> {
  const r = await gw.deploy(body);
  assert.equal(r.status, 202, await r.text());
}

async function ready(name: string, n = 1): Promise<void> {
  await until(`${name} to have ${n} ready`, async () => (((await gw.get(`/system/function/${name}`)) as { availableReplicas: number }).availableReplicas === n ? true : undefined), 90_000);
}

/** A new connection whose first call the relay serves (its table follows a replica's readiness by one message). */
async function relayed(fn: string): Promise<Agent> {
  return until(`a connection to ${fn} served by berth-relay`, async () => {
    const a = connection();
    const r = await call(a, `/function/${fn}`, { method: 'POST', body: 'probe' });
    return r.status === 200 && holders(r.port).join() === 'berth-relay' ? a : undefined;
  });
}

test('many kept-alive calls on one connection go through berth-relay to the replica; metrics and usage count exactly them', async () => {
  const since = new Date().toISOString();
  await deploy({ service: 'rcat', image: 'busybox:latest', envProcess: 'cat' });
  await ready('rcat');
  const a = await relayed('rcat');
  const label = 'function_name="rcat.openfaas-fn",code="200"';
  const m0 = await metrics();
  const N = 300;
  const ids = new Set<string>();
  const ports = new Set<number>();
  for (let i = 0; i < N; i++) {
    const r = await call(a, `/function/rcat/some/path?i=${i}`, { method: 'POST', body: `hello ${i}` });
    assert.equal(r.status, 200);
    assert.equal(r.body, `hello ${i}`, 'the body reached the process and came back');
    assert.match(String(r.headers['x-call-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(String(r.headers['x-duration-seconds']), /^\d+\.\d{6}$/);
    assert.match(String(r.headers['x-start-time']), /^\d{10}$/);
    assert.equal(r.headers['x-berth-usage'], undefined, 'the watchdog\'s account is the gateway\'s, never the client\'s');
    assert.equal(r.trailers['x-berth-usage'], undefined);
    ids.add(String(r.headers['x-call-id']));
    ports.add(r.port);
    if (i === N / 2) assert.deepEqual(holders(r.port), ['berth-relay'], 'the relay holds the connection, not berthd');
  }
  assert.equal(ids.size, N, 'each call has its own X-Call-Id');
  assert.equal(ports.size, 1, 'all on one connection');
  // A call id the client sends is kept, and reaches the process (Http_X_Call_Id is the watchdog's).
  const own = await call(a, '/function/rcat', { method: 'POST', body: 'x', headers: { 'X-Call-Id': 'my-own-id' } });
  assert.equal(own.headers['x-call-id'], 'my-own-id');

  const counted = await until('the relay\'s reports to be counted', async () => {
    const m = await metrics();
    return sample(m, 'gateway_function_invocation_total', label) - sample(m0, 'gateway_function_invocation_total', label) >= N + 1 ? m : undefined;
  });
  assert.equal(sample(counted, 'gateway_function_invocation_total', label) - sample(m0, 'gateway_function_invocation_total', label), N + 1);
  assert.equal(sample(counted, 'gateway_functions_seconds_count', label) - sample(m0, 'gateway_functions_seconds_count', label), N + 1);
  const report = await until('usage to be written', async () => {
    const u = await fetchUsage(gw.base, gatewayAuth(d.root), since);
    const f = u.functions.find((x) => x.name === 'rcat');
    return f !== undefined && f.invocations >= N + 2 ? f : undefined;
  });
  assert.equal(report.invocations, N + 2, 'every call counted once (with the probe)');
  assert.equal(report.failures, 0);
  assert.ok(report.cpuSeconds > 0, 'CPU time from the watchdog\'s account of each process');
  assert.ok(report.memoryPeakBytes > 0);
});

test('a kept-alive connection whose next request is another function stays with the relay; /system, no function, a large body go to the gateway, unread, and are answered right', async () => {
  await deploy({ service: 'rcat2', image: 'busybox:latest', envProcess: 'cat' });
  await ready('rcat2');
  await ready('rcat');
  await relayed('rcat2');
  const a = await relayed('rcat');
  const first = await call(a, '/function/rcat2', { method: 'POST', body: 'two' });
  assert.equal(first.status, 200);
  assert.equal(first.body, 'two');
  assert.deepEqual(holders(first.port), ['berth-relay']);

  const big = Buffer.alloc(200_000, 'b');
  const large = await call(a, '/function/rcat', { method: 'POST', body: big });
  assert.equal(large.status, 200);
  assert.equal(large.body.length, big.length, 'a body past the relay\'s 64 KiB is the gateway\'s, whole');
  assert.equal(large.port, first.port, 'on the same connection');
  assert.equal(holders(large.port).includes('berth-relay'), false, 'handed over');

  const list = await call(a, '/system/functions', { headers: { Authorization: gw.auth } });
  assert.equal(list.status, 200);
  const names = (JSON.parse(list.body) as { name: string }[]).map((f) => f.name).sort();
  assert.deepEqual(names.filter((n) => n.startsWith('rcat')), ['rcat', 'rcat2']);
  const again = await call(a, '/function/rcat', { method: 'POST', body: 'after /system' });
  assert.equal(again.status, 200);
  assert.equal(again.body, 'after /system');
  assert.equal(again.port, first.port);
  const none = await call(a, '/function/nosuch', { method: 'POST', body: 'x' });
  assert.equal(none.status, 404);
  assert.match(none.body, /nosuch/);

  // /system first on a new connection: the relay never keeps it.
  const b = connection();
  const info = await call(b, '/system/info', { headers: { Authorization: gw.auth } });
  assert.equal(info.status, 200);
  assert.equal(holders(info.port).includes('berth-relay'), false);
  const unauthorized = await call(b, '/system/functions');
  assert.equal(unauthorized.status, 401);
});

test('replicas retired while one kept-alive connection keeps calling (scale down, an update) lose no call, and each is counted once', async () => {
  await deploy({ service: 'rscale', image: 'busybox:latest', envProcess: 'env', envVars: { VERSION: 'one' } });
  await ready('rscale');
  const s = await gw.fetch('/system/scale-function/rscale', { method: 'POST', body: JSON.stringify({ serviceName: 'rscale', replicas: 2 }) });
  assert.equal(s.status, 202, await s.text());
  await ready('rscale', 2);
  const a = await relayed('rscale');
  const label = 'function_name="rscale.openfaas-fn",code="200"';
  const m0 = await metrics();
  let stop = false;
  let ok = 0;
  let sawTwo = false;
  const failures: string[] = [];
  const loop = (async () => {
    while (!stop) {
      const r = await call(a, '/function/rscale', { method: 'POST', body: '' }).catch((err: unknown) => err);
      if (r instanceof Error || typeof r !== 'object' || r === null) failures.push(String(r));
      else if ((r as Answer).status !== 200) failures.push(`${(r as Answer).status} ${(r as Answer).body}`);
      else {
        ok++;
        if ((r as Answer).body.includes('VERSION=two')) sawTwo = true;
      }
    }
  })();
  const down = await gw.fetch('/system/scale-function/rscale', { method: 'POST', body: JSON.stringify({ serviceName: 'rscale', replicas: 1 }) });
  assert.equal(down.status, 202);
  await until('rscale to be down to one replica', async () => {
    const filters = JSON.stringify({ label: ['com.openfaas.function=rscale'] });
    const list = (await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as { State: string }[];
    return list.filter((c) => c.State === 'running').length === 1 ? true : undefined;
  }, 90_000);
  const up = await gw.deploy({ service: 'rscale', image: 'busybox:latest', envProcess: 'env', envVars: { VERSION: 'two' } }, 'PUT');
  assert.equal(up.status, 200, await up.text());
  await until('calls to reach the updated replica', () => (sawTwo ? true : undefined), 90_000);
  stop = true;
  await loop;
  assert.deepEqual(failures, []);
  assert.ok(ok > 0);
  console.log(`# ${ok} calls on one connection answered 200 through a scale-down and an update, none failed`);
  const counted = await until('every call counted', async () => {
    const m = await metrics();
    return sample(m, 'gateway_function_invocation_total', label) - sample(m0, 'gateway_function_invocation_total', label) >= ok ? m : undefined;
  });
  assert.equal(sample(counted, 'gateway_function_invocation_total', label) - sample(m0, 'gateway_function_invocation_total', label), ok);
});

test('berth-relay\'s channel to berthd has no path (a socketpair: nothing another process or a container can open); a replica serving :8080 itself cannot bill its calls', async () => {
  const pid = relayPid();
  const unix = readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
  const sockets = fds.filter((l) => l.startsWith('socket:[')).map((l) => l.slice(8, -1));
  const named = unix.filter((cols) => sockets.includes(cols[6] ?? '') && cols[7] !== undefined);
  assert.deepEqual(named, [], 'no unix socket of the relay has a path');
  assert.ok(unix.some((cols) => sockets.includes(cols[6] ?? '')), 'its channel is a unix socket');
  const ids = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(ids, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, 'it parses what clients send as nobody, not root');
  assert.match(ids, /^NoNewPrivs:\s+1$/m);

  await deploy({ service: 'liar', image: LIAR_IMAGE });
  await ready('liar');
  const since = new Date().toISOString();
  const a = await until('a relayed call to liar', async () => {
    const c = connection();
    const r = await call(c, '/function/liar/cgi-bin/bill');
    return r.status === 200 && holders(r.port).join() === 'berth-relay' ? { c, r } : undefined;
  });
  assert.equal(a.r.body, 'billed\n');
  assert.equal(a.r.headers['x-berth-usage'], undefined, 'stripped');
  const report = await until('liar\'s usage', async () => (await fetchUsage(gw.base, gatewayAuth(d.root), since)).functions.find((f) => f.name === 'liar'));
  assert.ok(report.cpuSeconds < 999, `${report.cpuSeconds} CPU-seconds: the replica's own claim is not taken`);
});

/** One request written as it is on a new connection; what comes back until the server closes it or 2 s pass. */
function raw(text: string): Promise<string> {
  const url = new URL(gw.base);
  return new Promise((resolve) => {
    const s = connect(Number(url.port), url.hostname);
    let got = '';
    const timer = setTimeout(() => s.end(), 2_000);
    s.on('data', (b: Buffer) => (got += b.toString()));
    s.once('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.once('error', () => undefined);
    s.write(text);
  });
}

test('malformed request heads (a header line without a colon, which crashed the relay; a bare LF that could smuggle a header; two Content-Lengths or a signed one, request smuggling) are the gateway\'s to refuse: 400, and the relay keeps serving', async () => {
  await ready('rcat');
  const pid = relayPid();
  for (const bad of ['nocolon\r\n', 'X-A: b\nX-Call-Id: forged\r\n', ': empty name\r\n']) {
    const got = await raw(`POST /function/rcat HTTP/1.1\r\nHost: x\r\n${bad}Content-Length: 2\r\n\r\nhi`);
    assert.match(got, /^HTTP\/1\.1 400 /, JSON.stringify(bad));
  }
  // Two lengths, or a signed one: the replica could read another body than the relay sent and answer a smuggled request.
  for (const lengths of ['Content-Length: 2\r\nContent-Length: 7\r\n', 'Content-Length: +2\r\n']) {
    const got = await raw(`POST /function/rcat HTTP/1.1\r\nHost: x\r\n${lengths}\r\nhiGET /x HTTP/1.1\r\n\r\n`);
    assert.match(got, /^HTTP\/1\.1 400 /, JSON.stringify(lengths));
  }
  assert.equal(relayPid(), pid, 'the same relay');
  const a = await relayed('rcat');
  const r = await call(a, '/function/rcat', { method: 'POST', body: 'after' });
  assert.equal(r.body, 'after');
});

test('berthd stopping lets a relayed call in flight finish: its answer is whole', async () => {
  await deploy({ service: 'rslow', image: 'busybox:latest', envProcess: 'sh' });
  await ready('rslow');
  const a = await until('a connection to rslow served by berth-relay', async () => {
    const c = connection();
    const r = await call(c, '/function/rslow', { method: 'POST', body: 'echo probe' });
    return r.status === 200 && holders(r.port).join() === 'berth-relay' ? c : undefined;
  });
  const inflight = call(a, '/function/rslow', { method: 'POST', body: 'sleep 1; echo done' });
  await until('the call to be in flight', async () => (sample(await metrics(), 'gateway_function_invocation_inflight', 'function_name="rslow.openfaas-fn"') >= 1 ? true : undefined));
  const pid = d.pid!;
  process.kill(pid, 'SIGTERM');
  try {
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'done\n');
  } finally {
    await until('berthd to stop', () => (existsSync(`/proc/${pid}`) ? undefined : true), 30_000);
    await d.restart();
    gw = gatewayClient(d.gateway!, d.root);
  }
});

test('berth-relay killed: the gateway serves every call through Node.js at the same address', async () => {
  await deploy({ service: 'rlast', image: 'busybox:latest', envProcess: 'cat' });
  await ready('rlast');
  await relayed('rlast');
  process.kill(relayPid(), 'SIGKILL');
  const r = await until('the gateway to answer without the relay', async () => {
    const a = connection();
    const x = await call(a, '/function/rlast', { method: 'POST', body: 'still here' }).catch(() => undefined);
    return x?.status === 200 ? x : undefined;
  });
  assert.equal(r.body, 'still here');
  assert.equal(holders(r.port).includes('berth-relay'), false);
  assert.match(d.log(), /berth-relay stopped; serving every call through Node\.js/);
});
