/**
 * Metering and limits in a real berthd (as root). Functions are busybox
 * `sh` under berth's watchdog, the request body being the script, so one
 * image burns CPU, allocates memory or sleeps as a test asks:
 *
 * - a CPU-burning call is metered with CPU time > 0 and no more than its
 *   duration (the watchdog's account of the process, X-Berth-Usage, never
 *   reaches the client, neither as a header nor as a trailer);
 * - a memory-hungry call has a peak well above a trivial call's;
 * - /system/usage (and `berth fn usage`'s fetch and table) sums exactly
 *   the calls made, with GB-seconds = limit × duration; an image serving
 *   :8080 itself is metered from its cgroup;
 * - describe shows the limits and timeouts; a call past exec_timeout is
 *   a 504 naming it (the watchdog's, or the gateway's for an image without
 *   one), a call killed by the OOM killer a 502 naming the memory limit,
 *   and both are labelled failures in the metrics.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fetchUsage, gatewayAuth, renderUsage } from '../../../src/cli/berth/commands/fn/usage.ts';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { ECHO_IMAGE, gatewayClient, importCgiImage, importEchoImage, type GatewayClient } from '../../helpers/faas.ts';

/** busybox httpd serving :8080 itself (no watchdog), with a CGI that takes 5 s to answer. */
const SLOW_IMAGE = 'faas-slow:latest';

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  d = await startDaemon({
    gateway: true,
    prepare: async (images, scratch) => {
      await importEchoImage(images, join(scratch, 'echo'));
      await importCgiImage(images, join(scratch, 'slow'), SLOW_IMAGE, { slow: '#!/bin/sh\nsleep 5\nprintf "Content-Type: text/plain\\r\\n\\r\\nlate\\n"\n' });
    },
  });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  await d?.stop();
});

const BURN = 'i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done; echo burnt';
const HUNGRY = 'x=$(head -c 24000000 /dev/zero | tr "\\0" a); echo ${#x}';

async function deploy(name: string, extra: Record<string, unknown>): Promise<void> {
  const r = await gw.deploy({ service: name, image: 'busybox:latest', envProcess: 'sh', ...extra });
  assert.equal(r.status, 202, await r.text());
  await until(`function ${name} to be ready`, async () => (((await gw.get(`/system/function/${name}`)) as { availableReplicas: number }).availableReplicas === 1 ? true : undefined), 60_000);
}

async function call(fn: string, script: string, path = ''): Promise<{ status: number; text: string; headers: Headers }> {
  const r = await gw.fetch(`/function/${fn}${path}`, { auth: false, method: 'POST', body: script });
  return { status: r.status, text: await r.text(), headers: r.headers };
}

const metrics = async (): Promise<string> => (await gw.fetch('/metrics', { auth: false })).text();

/** A sample's value (0 when absent). */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The response's trailers, which fetch does not show. */
function trailersOf(path: string, body: string): Promise<{ status: number; trailers: NodeJS.Dict<string>; headers: NodeJS.Dict<string | string[]> }> {
  const url = new URL(path, gw.base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, trailers: res.trailers, headers: res.headers }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

test('a CPU-burning call: CPU time > 0 and within its duration; X-Berth-Usage reaches the client neither as header nor as trailer', async () => {
  await deploy('burn', {});
  const fn = 'function_name="burn.openfaas-fn"';
  const before = await metrics();
  const r = await call('burn', BURN);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'burnt\n');
  assert.equal(r.headers.get('x-berth-usage'), null);
  const raw = await trailersOf('/function/burn', BURN);
  assert.equal(raw.status, 200);
  assert.deepEqual(raw.trailers, {}, 'no trailer for the client');
  assert.equal(raw.headers['trailer'], undefined);
  const text = await metrics();
  const cpu = sample(text, 'berth_function_cpu_seconds_total', fn) - sample(before, 'berth_function_cpu_seconds_total', fn);
  const duration = sample(text, 'gateway_functions_seconds_sum', `${fn},code="200"`) - sample(before, 'gateway_functions_seconds_sum', `${fn},code="200"`);
  console.log(`# two calls of a shell loop: ${cpu.toFixed(4)} CPU-seconds in ${duration.toFixed(4)} s`);
  assert.ok(cpu > 0.02, `CPU time measured: ${cpu}`);
  assert.ok(cpu <= duration + 0.01, `no more CPU than time for a single-threaded shell: ${cpu} vs ${duration}`);
  assert.equal(sample(text, 'berth_function_cpu_seconds_count', fn) - sample(before, 'berth_function_cpu_seconds_count', fn), 2);
});

test('a memory-hungry call has a peak far above a trivial call’s (serializing mode: the account in a header)', async () => {
  await deploy('hungry', { envVars: { mode: 'serializing' } });
  const fn = 'function_name="hungry.openfaas-fn"';
  const t0 = await metrics();
  assert.equal((await call('hungry', 'echo small')).status, 200);
  const t1 = await metrics();
  const r = await call('hungry', HUNGRY);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text.trim(), '24000000');
  assert.equal(r.headers.get('x-berth-usage'), null);
  const t2 = await metrics();
  const peak = (a: string, b: string): number => sample(b, 'berth_function_memory_peak_bytes_sum', fn) - sample(a, 'berth_function_memory_peak_bytes_sum', fn);
  const baseline = peak(t0, t1);
  const hungry = peak(t1, t2);
  console.log(`# peak memory: trivial call ${(baseline / 2 ** 20).toFixed(1)} MiB, 24 MB string ${(hungry / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(baseline > 0 && baseline < 8 * 2 ** 20, `a trivial call's peak: ${baseline}`);
  assert.ok(hungry > 24_000_000, `the hungry call's peak holds its 24 MB: ${hungry}`);
});

test('/system/usage sums the calls made (and `berth fn usage` prints them); an image serving :8080 is metered from its cgroup', async () => {
  const since = new Date().toISOString();
  await deploy('billed', { limits: { memory: '64Mi' }, envVars: { exec_timeout: '30s' } });
  const r0 = await gw.deploy({ service: 'own', image: ECHO_IMAGE });
  assert.equal(r0.status, 202);
  await until('own to be ready', async () => (((await gw.get('/system/function/own')) as { availableReplicas: number }).availableReplicas === 1 ? true : undefined), 60_000);
  const fn = 'function_name="billed.openfaas-fn"';
  const before = await metrics();
  for (let i = 0; i < 3; i++) assert.equal((await call('billed', 'echo ok')).status, 200);
  assert.equal((await call('billed', 'exit 3')).status, 500, 'a failing call');
  for (let i = 0; i < 2; i++) assert.equal((await call('own', '', '/cgi-bin/echo')).status, 200);
  const after = await metrics();

  assert.equal((await gw.fetch('/system/usage', { auth: false })).status, 401, 'under basic auth');
  const bad = await gw.fetch('/system/usage?since=yesterday-ish');
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /since "yesterday-ish"/);

  const report = await fetchUsage(gw.base, gatewayAuth(d.root), since);
  const billed = report.functions.find((f) => f.name === 'billed');
  const own = report.functions.find((f) => f.name === 'own');
  assert.ok(billed !== undefined && own !== undefined, JSON.stringify(report));
  assert.equal(billed.invocations, 4);
  assert.equal(billed.failures, 1);
  const cpu = sample(after, 'berth_function_cpu_seconds_total', fn) - sample(before, 'berth_function_cpu_seconds_total', fn);
  assert.ok(Math.abs(billed.cpuSeconds - cpu) < 1e-5, `usage ${billed.cpuSeconds} = metrics ${cpu}`);
  assert.ok(billed.durationSeconds > 0);
  // Billed on the 64Mi limit: GiB × seconds.
  assert.ok(Math.abs(billed.gbSeconds - (64 / 1024) * billed.durationSeconds) < 1e-9, `${billed.gbSeconds} = 1/16 GiB × ${billed.durationSeconds} s`);
  assert.equal(own.invocations, 2);
  assert.ok(own.memoryPeakBytes > 0, 'the own server is metered from its cgroup (peak)');
  assert.ok(own.gbSeconds > 0, 'no limit: billed on the peak');

  const table = renderUsage(report);
  assert.match(table, /^FUNCTION\s+INVOCATIONS\s+FAILURES/m);
  assert.match(table, /^billed\s+4\s+1\s/m);
  assert.match(table, /memory limit/);
  assert.deepEqual((await fetchUsage(gw.base, gw.auth, '1h')).functions.map((f) => f.name).includes('billed'), true);
  await assert.rejects(fetchUsage(gw.base, gw.auth, 'soonish'), /--since "soonish"/);
});

test('describe shows the limits and timeouts; past exec_timeout: 504 naming it, counted as a timeout', async () => {
  await deploy('slowpoke', { limits: { memory: '48Mi', cpu: '0.5' }, envVars: { exec_timeout: '1s' } });
  const s = (await gw.get('/system/function/slowpoke')) as Record<string, unknown>;
  assert.deepEqual(s['limits'], { memory: '48Mi', cpu: '0.5' });
  assert.deepEqual(s['limitsEnforced'], { memoryBytes: 48 * 2 ** 20, cpus: 0.5 });
  assert.deepEqual(s['timeouts'], { exec_timeout: '1s', read_timeout: '10s', write_timeout: '10s', upstream_timeout: '2s' });
  const r = await call('slowpoke', 'sleep 5');
  assert.equal(r.status, 504, r.text);
  assert.match(r.text, /exec_timeout of 1000ms exceeded/);
  const text = await metrics();
  assert.equal(sample(text, 'berth_function_failures_total', 'function_name="slowpoke.openfaas-fn",reason="timeout"'), 1, text);
});

test('an image serving :8080 itself, past its exec_timeout: the gateway answers 504 naming it', async () => {
  const r0 = await gw.deploy({ service: 'slowsrv', image: SLOW_IMAGE, envVars: { exec_timeout: '1s' } });
  assert.equal(r0.status, 202);
  await until('slowsrv to be ready', async () => (((await gw.get('/system/function/slowsrv')) as { availableReplicas: number }).availableReplicas === 1 ? true : undefined), 60_000);
  const r = await call('slowsrv', '', '/cgi-bin/slow');
  assert.equal(r.status, 504, r.text);
  assert.equal(r.text, 'function "slowsrv": no answer within exec_timeout 1s (the gateway waits 2s)\n');
  assert.equal(sample(await metrics(), 'berth_function_failures_total', 'function_name="slowsrv.openfaas-fn",reason="timeout"'), 1);
});

test('a call killed by the OOM killer: 502 naming the memory limit, counted as oom; the replica serves the next call', async () => {
  await deploy('oom', { limits: { memory: '32Mi' } });
  const r = await call('oom', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo ${#x}');
  assert.equal(r.status, 502, r.text);
  assert.equal(r.text, 'function "oom": killed: memory limit 32Mi reached\n');
  const text = await metrics();
  assert.equal(sample(text, 'berth_function_failures_total', 'function_name="oom.openfaas-fn",reason="oom"'), 1, text);
  assert.equal(sample(text, 'gateway_function_invocation_total', 'function_name="oom.openfaas-fn",code="502"'), 1);
  const next = await call('oom', 'echo fine');
  assert.equal(next.status, 200, next.text);
  assert.equal(next.text, 'fine\n');
});
