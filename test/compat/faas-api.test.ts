/**
 * The gateway against OpenFaaS's API as its clients use it (as root, a
 * berthd of its own): the request and response shapes of
 * api-docs/spec.openapi.yml of openfaas/faas (GatewayInfo, FunctionStatus,
 * FunctionDeployment, DeleteFunctionRequest, ScaleServiceRequest, Secret,
 * LogEntry; status codes; basic auth) and the requests faas-cli's proxy
 * package makes for each verb, byte for byte as it sends them: deploy's
 * `PUT` then `POST` on 404, the older CreateFunctionRequest with
 * `network`, `registryAuth` and nulls, `DELETE` with `{"functionName"}`,
 * `login`'s check of `GET /system/functions`, invoke's namespaced path.
 * faas-cli itself cannot be installed here; these are its requests. The
 * secret, log and async routes come with other parts of the gateway: their
 * cases skip (saying so) while the route answers "page not found".
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDaemon, until, type TestDaemon } from '../helpers/daemon.ts';
import { ECHO_IMAGE, gatewayClient, importEchoImage, type GatewayClient } from '../helpers/faas.ts';

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  d = await startDaemon({ gateway: true, prepare: importEchoImage });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  await d?.stop();
});

/** A faas-cli request: its JSON body as Go's encoding/json writes it, Content-Type as it sets it (none on deploy). */
function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return gw.fetch(path, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** FunctionStatus's required fields and the types of the ones present (spec: components.schemas.FunctionStatus). */
function assertFunctionStatus(v: unknown): Record<string, unknown> {
  assert.ok(isObj(v), JSON.stringify(v));
  assert.equal(typeof v['name'], 'string');
  assert.equal(typeof v['image'], 'string');
  const types: Record<string, string> = {
    namespace: 'string', envProcess: 'string', invocationCount: 'number', replicas: 'number', availableReplicas: 'number', createdAt: 'string', readOnlyRootFilesystem: 'boolean',
  };
  for (const [k, t] of Object.entries(types)) if (v[k] !== undefined) assert.equal(typeof v[k], t, `${k}: ${JSON.stringify(v[k])}`);
  for (const k of ['envVars', 'labels', 'annotations', 'limits', 'requests']) if (v[k] !== undefined && v[k] !== null) assert.ok(isObj(v[k]), `${k}: ${JSON.stringify(v[k])}`);
  for (const k of ['secrets', 'constraints']) if (v[k] !== undefined && v[k] !== null) assert.ok(Array.isArray(v[k]), `${k}: ${JSON.stringify(v[k])}`);
  if (typeof v['createdAt'] === 'string') assert.ok(!Number.isNaN(Date.parse(v['createdAt'])), `createdAt: ${v['createdAt']}`);
  return v;
}

async function ready(name: string): Promise<Record<string, unknown>> {
  return until(`${name} to have a ready replica`, async () => {
    const r = await send('GET', `/system/function/${name}`);
    const s = assertFunctionStatus(await r.json());
    return s['availableReplicas'] === 1 ? s : undefined;
  }, 60_000);
}

test('GET /system/info: GatewayInfo {provider: ProviderInfo, version: VersionInfo, arch}; /healthz 200; /system/namespaces a list of names', async () => {
  const r = await send('GET', '/system/info');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  const info = (await r.json()) as Record<string, unknown>;
  assert.ok(isObj(info['provider']) && isObj(info['version']));
  const provider = info['provider'];
  const version = info['version'];
  assert.equal(typeof provider['provider'], 'string');
  assert.equal(typeof provider['orchestration'], 'string');
  assert.ok(isObj(provider['version']));
  assert.equal(typeof provider['version']['release'], 'string');
  assert.equal(typeof provider['version']['sha'], 'string');
  assert.equal(typeof version['release'], 'string');
  assert.equal(typeof version['sha'], 'string');
  assert.equal(typeof info['arch'], 'string');
  assert.equal((await gw.fetch('/healthz', { auth: false })).status, 200);
  const ns = (await (await send('GET', '/system/namespaces')).json());
  assert.ok(Array.isArray(ns) && ns.every((n) => typeof n === 'string') && ns.includes('openfaas-fn'), JSON.stringify(ns));
});

test('faas-cli login: GET /system/functions with basic auth is 200 with the right password, 401 with WWW-Authenticate otherwise', async () => {
  assert.equal((await send('GET', '/system/functions')).status, 200);
  const wrong = await gw.fetch('/system/functions', { auth: `Basic ${Buffer.from('admin:wrong').toString('base64')}` });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('www-authenticate'), 'Basic realm="OpenFaaS"');
  for (const [method, path] of [['GET', '/system/info'], ['POST', '/system/functions'], ['DELETE', '/system/functions'], ['GET', '/system/function/x'], ['POST', '/system/scale-function/x']]) {
    assert.equal((await gw.fetch(path!, { method: method!, auth: false })).status, 401, `${method} ${path}`);
  }
});

test('faas-cli deploy: PUT of a function not there is 404, then POST of the FunctionDeployment with every field is 202; a second deploy (PUT) is 200', async () => {
  // faas-provider's FunctionDeployment as faas-cli 0.16+ marshals it (omitempty fields left out when empty).
  const body = {
    service: 'compat-full',
    image: ECHO_IMAGE,
    namespace: 'openfaas-fn',
    envProcess: '',
    envVars: { write_timeout: '10s', GREETING: 'hi' },
    constraints: ['node.platform.os == linux'],
    secrets: [],
    labels: { 'com.openfaas.scale.min': '1', team: 'compat' },
    annotations: { topic: 'payments', 'com.openfaas.health.http.path': '/healthz' },
    limits: { memory: '128Mi', cpu: '500m' },
    requests: { memory: '64Mi', cpu: '100m' },
    readOnlyRootFilesystem: true,
  };
  const put = await send('PUT', '/system/functions', body);
  assert.equal(put.status, 404, await put.text());
  const post = await send('POST', '/system/functions', body);
  assert.equal(post.status, 202, await post.text());
  const s = await ready('compat-full');
  assert.equal(s['name'], 'compat-full');
  assert.equal(s['image'], ECHO_IMAGE);
  assert.equal(s['namespace'], 'openfaas-fn');
  assert.deepEqual(s['envVars'], body.envVars);
  assert.equal((s['labels'] as Record<string, string>)['team'], 'compat');
  assert.deepEqual(s['annotations'], body.annotations);
  assert.deepEqual(s['limits'], body.limits);
  assert.deepEqual(s['requests'], body.requests);
  assert.equal(s['readOnlyRootFilesystem'], true);
  assert.equal(s['replicas'], 1);

  const again = await send('PUT', '/system/functions', { ...body, envVars: { GREETING: 'again' } });
  assert.equal(again.status, 200, await again.text());
  await until('the update to show', async () => {
    const x = assertFunctionStatus(await (await send('GET', '/system/function/compat-full')).json());
    return isObj(x['envVars']) && x['envVars']['GREETING'] === 'again' ? true : undefined;
  });
  // A second POST of a function that exists: faas-cli's --update=false path; not created twice.
  assert.equal((await send('POST', '/system/functions', body)).status, 409);
  assert.equal(((await (await send('GET', '/system/functions')).json()) as unknown[]).filter((f) => isObj(f) && f['name'] === 'compat-full').length, 1);
});

test('the older faas-cli CreateFunctionRequest (network, registryAuth, empty envProcess, nulls) is accepted and its ignored fields dropped', async () => {
  const body = '{"service":"compat-old","network":"func_functions","image":"' + ECHO_IMAGE + '","envProcess":"","envVars":null,"registryAuth":"","constraints":null,"secrets":null,"labels":null,"annotations":null,"limits":null,"requests":null}';
  const r = await send('POST', '/system/functions', body);
  assert.equal(r.status, 202, await r.text());
  const s = await ready('compat-old');
  assert.equal(s['network'], undefined);
  assert.equal(s['registryAuth'], undefined);
});

test('GET /system/functions: a list of FunctionStatus; GET /system/function/NAME (and ?namespace=openfaas-fn) one; 404 for a name not there', async () => {
  const list = (await (await send('GET', '/system/functions')).json());
  assert.ok(Array.isArray(list));
  list.forEach(assertFunctionStatus);
  assert.ok(list.some((f) => isObj(f) && f['name'] === 'compat-full'));
  const one = await send('GET', '/system/function/compat-full?namespace=openfaas-fn');
  assert.equal(one.status, 200);
  assert.equal(assertFunctionStatus(await one.json())['name'], 'compat-full');
  assert.equal((await send('GET', '/system/function/not-there')).status, 404);
  assert.equal((await send('GET', '/system/functions?namespace=openfaas-fn')).status, 200);
});

test('faas-cli invoke: POST /function/NAME with Content-Type text/plain, no credentials; the namespaced path /function/NAME.openfaas-fn too; X-Call-Id and X-Duration-Seconds come back', async () => {
  for (const path of ['/function/compat-full/cgi-bin/echo?a=b', '/function/compat-full.openfaas-fn/cgi-bin/echo?a=b']) {
    const r = await gw.fetch(path, { method: 'POST', auth: false, body: 'payload', headers: { 'Content-Type': 'text/plain', 'X-Test': 'v' } });
    const text = await r.text();
    assert.equal(r.status, 200, `${path}: ${text}`);
    assert.match(text, /^method=POST$/m);
    assert.match(text, /^query=a=b$/m);
    assert.match(text, /^header=v$/m);
    assert.match(text, /^body=payload$/m);
    assert.ok((r.headers.get('x-call-id') ?? '') !== '');
    assert.ok(Number(r.headers.get('x-duration-seconds')) >= 0);
  }
  assert.equal((await gw.fetch('/function/compat-full.other-ns', { method: 'POST', auth: false })).status, 404);
  assert.equal((await gw.fetch('/function/not-there', { method: 'POST', auth: false })).status, 404);
});

test('faas-cli scale: POST /system/scale-function/NAME with ScaleServiceRequest {serviceName, namespace, replicas} is 202 (200 or 202 per the spec)', async () => {
  const r = await send('POST', '/system/scale-function/compat-full', { serviceName: 'compat-full', namespace: 'openfaas-fn', replicas: 2 });
  assert.ok([200, 202].includes(r.status), `${r.status} ${await r.text()}`);
  await until('two replicas', async () => {
    const s = assertFunctionStatus(await (await send('GET', '/system/function/compat-full')).json());
    return s['replicas'] === 2 && s['availableReplicas'] === 2 ? true : undefined;
  }, 60_000);
  assert.equal((await send('POST', '/system/scale-function/not-there', { serviceName: 'not-there', namespace: 'openfaas-fn', replicas: 1 })).status, 404);
});

test('faas-cli secret create/list/update/remove: Secret {name, value} and {name, rawValue}; SecretDescription list', async () => {
  const created = await send('POST', '/system/secrets', { name: 'compat-secret', value: 'v1' });
  assert.ok([200, 201, 202].includes(created.status), `${created.status} ${await created.text()}`);
  const raw = await send('POST', '/system/secrets', { name: 'compat-raw', rawValue: Buffer.from([0, 1, 2]).toString('base64') });
  assert.ok([200, 201, 202].includes(raw.status), `${raw.status} ${await raw.text()}`);
  const list = (await (await send('GET', '/system/secrets')).json());
  assert.ok(Array.isArray(list));
  const names = list.map((s) => (isObj(s) ? s['name'] : undefined));
  assert.ok(names.includes('compat-secret') && names.includes('compat-raw'), JSON.stringify(list));
  assert.ok(list.every((s) => isObj(s) && s['value'] === undefined && s['rawValue'] === undefined), 'a list never carries values');
  assert.ok([200, 202].includes((await send('PUT', '/system/secrets', { name: 'compat-secret', value: 'v2' })).status));
  for (const name of ['compat-secret', 'compat-raw']) assert.ok([200, 202, 204].includes((await send('DELETE', '/system/secrets', { name })).status), name);
  assert.equal((await send('DELETE', '/system/secrets', { name: 'compat-secret' })).status, 404);
});

test('faas-cli logs: GET /system/logs?name=NAME&follow=false&tail=-1 is ndjson of LogEntry {name, namespace, instance, timestamp, text}', async () => {
  const probe = await send('GET', '/system/logs?name=compat-full&follow=false&tail=-1');
  assert.equal(probe.status, 200, await probe.text());
  // A function that writes to stderr on each call (the watchdog passes it to the replica's log).
  const r = await send('POST', '/system/functions', { service: 'compat-logs', image: 'busybox:latest', envProcess: 'ls /compat-no-such-path' });
  assert.equal(r.status, 202, await r.text());
  await ready('compat-logs');
  await (await gw.fetch('/function/compat-logs', { method: 'POST', auth: false, body: '' })).text();
  const entries = await until('the function\'s stderr in its logs', async () => {
    const lines = (await (await send('GET', '/system/logs?name=compat-logs&follow=false&tail=-1')).text()).split('\n').filter((l) => l !== '');
    const parsed = lines.map((l) => JSON.parse(l) as unknown);
    return parsed.some((e) => isObj(e) && String(e['text']).includes('compat-no-such-path')) ? parsed : undefined;
  });
  for (const e of entries) {
    assert.ok(isObj(e));
    for (const k of ['name', 'namespace', 'instance', 'timestamp', 'text']) assert.equal(typeof e[k], 'string', `${k} in ${JSON.stringify(e)}`);
    assert.equal(e['name'], 'compat-logs');
    assert.equal(e['namespace'], 'openfaas-fn');
    assert.ok(!Number.isNaN(Date.parse(String(e['timestamp']))));
  }
  assert.equal((await send('DELETE', '/system/functions', { functionName: 'compat-logs' })).status, 200);
});

test('faas-cli invoke --async: POST /async-function/NAME is 202 with an X-Call-Id', async () => {
  const r = await gw.fetch('/async-function/compat-full', { method: 'POST', auth: false, body: 'later', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(r.status, 202, await r.text());
  assert.ok((r.headers.get('x-call-id') ?? '') !== '');
});

test('faas-cli remove: DELETE /system/functions with {"functionName"} is 200, then 404; the replicas go', async () => {
  for (const name of ['compat-full', 'compat-old']) {
    const r = await send('DELETE', '/system/functions', { functionName: name });
    assert.equal(r.status, 200, await r.text());
    assert.equal((await send('DELETE', '/system/functions', { functionName: name })).status, 404);
  }
  assert.deepEqual(await (await send('GET', '/system/functions')).json(), []);
  await until('the replicas to go', async () => {
    const filters = JSON.stringify({ label: ['com.openfaas.function'] });
    const left = (await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as unknown[];
    return left.length === 0 ? true : undefined;
  }, 30_000);
});
