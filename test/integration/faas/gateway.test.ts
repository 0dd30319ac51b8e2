/**
 * The functions gateway in a real berthd (as root): OpenFaaS's REST API
 * under basic auth, replicas as engine containers on the default network,
 * invocations proxied with their method, path, query, headers and body,
 * a killed replica replaced, an update without a failed request, scaling
 * to zero and back on a request, the metrics counted, bad input refused
 * naming the field.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { ECHO_IMAGE, gatewayClient, importEchoImage, type GatewayClient } from '../../helpers/faas.ts';

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  d = await startDaemon({ gateway: true, prepare: importEchoImage });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  await d?.stop();
});

interface Status {
  name: string;
  image: string;
  namespace: string;
  replicas: number;
  availableReplicas: number;
  invocationCount: number;
  labels: Record<string, string>;
  envVars: Record<string, string>;
  createdAt: string;
}

interface Ctr {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
  Ports: unknown[];
}

async function replicasOf(fn: string): Promise<Ctr[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return (await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as Ctr[];
}

const status = async (fn: string): Promise<Status> => (await gw.get(`/system/function/${fn}`)) as Status;

async function readyReplicas(fn: string, n: number): Promise<Status> {
  return until(`function ${fn} to have ${n} ready replicas`, async () => {
    const s = await status(fn);
    return s.availableReplicas === n && s.replicas === n ? s : undefined;
  }, 60_000);
}

async function deployEcho(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await gw.deploy({ service: name, image: ECHO_IMAGE, ...extra });
  assert.equal(r.status, 202, await r.text());
}

test('/system/* asks for basic auth: 401 with WWW-Authenticate without credentials or with a wrong password; the credentials are files of mode 0600', async () => {
  const none = await gw.fetch('/system/functions', { auth: false });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Basic realm="OpenFaaS"');
  const wrong = await gw.fetch('/system/functions', { auth: `Basic ${Buffer.from('admin:not-the-password').toString('base64')}` });
  assert.equal(wrong.status, 401);
  const right = await gw.fetch('/system/functions');
  assert.equal(right.status, 200);
  assert.deepEqual(await right.json(), []);
  for (const f of ['basic-auth-user', 'basic-auth-password']) assert.equal(statSync(join(d.root, 'secrets', f)).mode & 0o777, 0o600, f);
  // The open endpoints stay open.
  assert.equal((await gw.fetch('/healthz', { auth: false })).status, 200);
  assert.equal((await gw.fetch('/metrics', { auth: false })).status, 200);
  const info = (await gw.get('/system/info')) as { provider: { provider: string }; version: { release: string } };
  assert.equal(info.provider.provider, 'berth');
  assert.deepEqual(await gw.get('/system/namespaces'), ['openfaas-fn']);
});

test('a bad deployment is refused with 400 naming the field, and nothing is deployed', async () => {
  const cases: [unknown, string][] = [
    [{ image: ECHO_IMAGE }, 'service'],
    [{ service: 'Bad_Name', image: ECHO_IMAGE }, 'service'],
    [{ service: 'noimage' }, 'image'],
    [{ service: 'badenv', image: ECHO_IMAGE, envVars: { A: 1 } }, 'envVars.A'],
    [{ service: 'badmem', image: ECHO_IMAGE, limits: { memory: 'lots' } }, 'limits.memory'],
    [{ service: 'badzero', image: ECHO_IMAGE, labels: { 'com.openfaas.scale.zero-duration': 'soon' } }, 'labels.com.openfaas.scale.zero-duration'],
    [{ service: 'typo', image: ECHO_IMAGE, envvars: {} }, 'envvars'],
  ];
  for (const [body, field] of cases) {
    const r = await gw.deploy(body);
    const text = await r.text();
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${text}`);
    assert.match(text, new RegExp(`${field.replace(/\./g, '\\.')}:`), text);
  }
  const notJson = await gw.fetch('/system/functions', { method: 'POST', body: '{nope' });
  assert.equal(notJson.status, 400);
  assert.match(await notJson.text(), /not JSON/);
  const scale = await gw.fetch('/system/scale-function/nothing', { method: 'POST', body: JSON.stringify({ serviceName: 'nothing', replicas: -1 }) });
  assert.equal(scale.status, 400);
  assert.match(await scale.text(), /replicas:/);
  assert.deepEqual(await gw.get('/system/functions'), []);
  assert.deepEqual(await replicasOf('badenv'), []);
});

test('deploy, invoke (method, path, query, headers and body round-trip), list, describe', async () => {
  await deployEcho('echo', { envVars: { GREETING: 'hi' }, labels: { team: 'a' }, annotations: { note: 'x' } });
  const again = await gw.deploy({ service: 'echo', image: ECHO_IMAGE });
  assert.equal(again.status, 409, 'a second deploy of the same name');
  const s = await readyReplicas('echo', 1);
  assert.equal(s.image, ECHO_IMAGE);
  assert.equal(s.namespace, 'openfaas-fn');
  assert.deepEqual(s.envVars, { GREETING: 'hi' });
  assert.equal(s.labels['team'], 'a');
  assert.ok(!Number.isNaN(Date.parse(s.createdAt)));
  const list = (await gw.get('/system/functions')) as Status[];
  assert.deepEqual(list.map((f) => f.name), ['echo']);

  const [ctr] = await replicasOf('echo');
  assert.ok(ctr !== undefined);
  assert.match(ctr.Names[0] ?? '', /^\/echo-[0-9a-f]{6}$/);
  assert.equal(ctr.Labels['com.openfaas.function'], 'echo');
  assert.deepEqual(ctr.Ports, [], 'no port published');

  const r = await gw.fetch('/function/echo/cgi-bin/echo?a=1&b=two', { auth: false, method: 'POST', body: 'payload-123', headers: { 'X-Test': 'round-trip', 'X-Call-Id': 'call-42' } });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  assert.match(body, /^method=POST$/m);
  assert.match(body, /^uri=\/cgi-bin\/echo\?a=1&b=two$/m);
  assert.match(body, /^query=a=1&b=two$/m);
  assert.match(body, /^header=round-trip$/m);
  assert.match(body, /^callid=call-42$/m);
  assert.match(body, /^body=payload-123$/m);
  assert.equal(r.headers.get('x-echo'), 'yes', "the function's own header");
  assert.equal(r.headers.get('x-call-id'), 'call-42');
  assert.match(r.headers.get('x-start-time') ?? '', /^\d+$/);
  assert.match(r.headers.get('x-duration-seconds') ?? '', /^\d+\.\d+$/);
  const root = await gw.fetch('/function/echo', { auth: false });
  assert.equal(await root.text(), 'hello\n');
  assert.equal((await gw.fetch('/function/nosuch', { auth: false })).status, 404);
  assert.equal((await status('echo')).invocationCount, 2);
});

test('metrics count the invocations by function and code, with their durations', async () => {
  const before = await gw.fetch('/metrics', { auth: false }).then((r) => r.text());
  const count = (text: string, code: string): number => {
    const m = new RegExp(`^gateway_function_invocation_total\\{function_name="echo.openfaas-fn",code="${code}"\\} (\\d+)$`, 'm').exec(text);
    return m === null ? 0 : Number(m[1]);
  };
  // Each answer read to its end: an invocation is counted when its response is.
  const call = async (path: string): Promise<number> => {
    const r = await gw.fetch(path, { auth: false });
    await r.text();
    return r.status;
  };
  for (let i = 0; i < 3; i++) assert.equal(await call('/function/echo'), 200);
  assert.equal(await call('/function/echo/missing.html'), 404);
  const text = await gw.fetch('/metrics', { auth: false }).then((r) => r.text());
  assert.equal(count(text, '200') - count(before, '200'), 3, text);
  assert.equal(count(text, '404') - count(before, '404'), 1, text);
  assert.match(text, /^gateway_functions_seconds_count\{function_name="echo.openfaas-fn",code="200"\} \d+$/m);
  assert.match(text, /^gateway_functions_seconds_bucket\{function_name="echo.openfaas-fn",code="200",le="\+Inf"\} \d+$/m);
  assert.match(text, /^gateway_service_count\{function_name="echo.openfaas-fn"\} 1$/m);
  assert.doesNotMatch(text, /nosuch/, 'a name no function has is not counted');
});

test('a killed replica is replaced by a new one that answers', async () => {
  const [old] = await replicasOf('echo');
  assert.ok(old !== undefined);
  await d.client.request('POST', `/containers/${old.Id}/kill`);
  const fresh = await until('a new replica of echo', async () => {
    const list = await replicasOf('echo');
    const s = await status('echo');
    return s.availableReplicas === 1 && list.length === 1 && list[0]?.Id !== old.Id && list[0]?.State === 'running' ? list[0] : undefined;
  }, 60_000);
  assert.notEqual(fresh.Id, old.Id);
  assert.equal((await replicasOf('echo')).length, 1, 'one replica, not two');
  const r = await gw.fetch('/function/echo', { auth: false });
  assert.equal(r.status, 200);
});

test('scale-function sets the replicas; an update replaces them with no failed request', async () => {
  const r = await gw.fetch('/system/scale-function/echo', { method: 'POST', body: JSON.stringify({ serviceName: 'echo', replicas: 2 }) });
  assert.equal(r.status, 202, await r.text());
  await readyReplicas('echo', 2);
  assert.equal((await replicasOf('echo')).length, 2);
  const before = new Set((await replicasOf('echo')).map((c) => c.Id));

  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  const loop = (async () => {
    while (!stop) {
      const res = await gw.fetch('/function/echo/cgi-bin/echo', { auth: false }).catch((err: unknown) => err);
      if (res instanceof Response) {
        const text = await res.text();
        if (res.status === 200) ok++;
        else failures.push(`${res.status} ${text}`);
      } else failures.push(String(res));
    }
  })();
  const up = await gw.deploy({ service: 'echo', image: ECHO_IMAGE, envVars: { GREETING: 'hello again' } }, 'PUT');
  assert.equal(up.status, 200, await up.text());
  await until('the old replicas to go', async () => {
    const list = await replicasOf('echo');
    return list.length === 2 && list.every((c) => !before.has(c.Id)) ? true : undefined;
  }, 90_000);
  stop = true;
  await loop;
  assert.deepEqual(failures, []);
  assert.ok(ok > 0);
  console.log(`# ${ok} requests answered 200 during the update, none failed`);
  const s = await readyReplicas('echo', 2);
  assert.deepEqual(s.envVars, { GREETING: 'hello again' });
});

test('scale to zero when idle (nothing runs, one replica prepared and primed, never started), and back from zero on a request that starts it (cold start phases logged)', async () => {
  await deployEcho('sleepy', { labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '2s' } });
  await readyReplicas('sleepy', 1);
  const [running] = await replicasOf('sleepy');
  const prepared = await until('sleepy to scale to zero', async () => {
    const s = await status('sleepy');
    const list = await replicasOf('sleepy');
    return s.replicas === 0 && list.length === 1 && list[0]!.State === 'created' ? list[0] : undefined;
  }, 60_000);
  assert.notEqual(prepared.Id, running?.Id, 'the replica that ran is gone');
  const inspect = (await d.client.json('GET', `/containers/${prepared.Id}/json`)) as { State: { Status: string; Pid: number; StartedAt: string } };
  assert.equal(inspect.State.Status, 'created');
  assert.equal(inspect.State.Pid, 0, 'nothing of the prepared replica runs (primed, its process waits before execve)');
  const r = await gw.fetch('/function/sleepy/cgi-bin/echo?cold=1', { auth: false, method: 'POST', body: 'first' });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  assert.match(body, /^body=first$/m, 'the request held during the cold start keeps its body');
  assert.match(body, /^query=cold=1$/m);
  assert.equal((await status('sleepy')).replicas, 1);
  const after = await replicasOf('sleepy');
  assert.deepEqual(after.map((c) => [c.Id, c.State]), [[prepared.Id, 'running']], 'the prepared replica is the one started');
  // Logged a turn after the answer's head went out.
  const line = await until('the cold start logged', () => d.log().split('\n').find((l) => l.includes('"function cold start"') && l.includes('"sleepy"')), 5_000);
  const phases = (JSON.parse(line) as { ms: Record<string, number> }).ms;
  for (const p of ['lookup', 'scheduled', 'primed', 'created', 'runtime start', 'ready', 'response']) assert.equal(typeof phases[p], 'number', p);
  assert.equal(phases['started'], undefined, "the record's running waits for the answer (engine.start's holdRecord)");
  assert.equal(phases['snapshot'], undefined, 'no snapshot made on the request: it was prepared');
  for (const p of ['network', 'monitor and runtime create']) assert.equal(phases[p], undefined, `no ${p} on the request: it was primed`);
  console.log(`# cold start of "sleepy" (ms since the request arrived): ${JSON.stringify(phases)}`);
});

test('delete removes the function and all its replicas', async () => {
  const r = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'echo' }) });
  assert.equal(r.status, 200, await r.text());
  assert.deepEqual(await replicasOf('echo'), []);
  assert.equal((await gw.fetch('/system/function/echo')).status, 404);
  assert.equal((await gw.fetch('/function/echo', { auth: false })).status, 404);
  const again = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'echo' }) });
  assert.equal(again.status, 404);
  const gone = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'sleepy' }) });
  assert.equal(gone.status, 200);
  assert.deepEqual(await replicasOf('sleepy'), []);
});

test('a function whose replicas cannot start answers 502 saying why, and is retried', async () => {
  // The watchdog refuses a bad mode and exits: the replica never becomes ready.
  await deployEcho('broken', { image: 'busybox:latest', envProcess: 'cat', envVars: { mode: 'failing-on-purpose' } });
  const r = await gw.fetch('/function/broken', { auth: false });
  const text = await r.text();
  assert.equal(r.status, 502, text);
  assert.match(text, /function "broken": no replica could start/);
  const del = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'broken' }) });
  assert.equal(del.status, 200);
  await until('no replica of broken left', async () => ((await replicasOf('broken')).length === 0 ? true : undefined));
});

test('replicas outlive berthd: a restarted berthd adopts them (no second replica) and serves them', async () => {
  await deployEcho('survivor');
  await readyReplicas('survivor', 1);
  const [before] = await replicasOf('survivor');
  assert.ok(before !== undefined);
  await d.kill9();
  await d.restart();
  gw = gatewayClient(d.gateway!, d.root);
  await readyReplicas('survivor', 1);
  const r = await gw.fetch('/function/survivor', { auth: false });
  assert.equal(r.status, 200);
  const after = await replicasOf('survivor');
  assert.deepEqual(after.map((c) => c.Id), [before.Id]);
});
