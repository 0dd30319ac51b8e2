/**
 * Function namespaces in a real berthd (as root): the same name deployed
 * in two namespaces, each with its own replicas, listed, described,
 * invoked (`/function/NAME.NAMESPACE`), counted in the metrics and deleted
 * apart; `/system/namespaces` lists the default and those holding a
 * function or a secret; secrets are per namespace; a restarted berthd
 * adopts the replicas of both; an invalid namespace is refused naming it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  namespace: string;
  envVars: Record<string, string>;
  availableReplicas: number;
}

interface Ctr {
  Id: string;
  Labels: Record<string, string>;
}

async function replicas(fn: string, namespace: string): Promise<Ctr[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`, `com.openfaas.namespace=${namespace}`] });
  return (await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as Ctr[];
}

async function ready(fn: string, namespace: string): Promise<Ctr> {
  return until(`${fn}.${namespace} to be ready`, async () => {
    const s = (await gw.get(`/system/function/${fn}?namespace=${namespace}`)) as Status;
    const list = await replicas(fn, namespace);
    return s.availableReplicas === 1 && list.length === 1 ? list[0] : undefined;
  }, 60_000);
}

/** The hostname the echo function answers with, which is its replica's. */
async function hostOf(path: string): Promise<string> {
  const r = await gw.fetch(path, { auth: false });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  return /^host=(.*)$/m.exec(body)?.[1] ?? '';
}

async function hostnameOf(id: string): Promise<string> {
  return ((await d.client.json('GET', `/containers/${id}/json`)) as { Config: { Hostname: string } }).Config.Hostname;
}

test('the same name in two namespaces: deployed, listed, described, invoked and counted apart', async () => {
  assert.deepEqual(await gw.get('/system/namespaces'), ['openfaas-fn']);
  for (const [namespace, greeting] of [['openfaas-fn', 'default'], ['staging', 'staged']] as const) {
    const r = await gw.deploy({ service: 'echo', image: ECHO_IMAGE, ...(namespace === 'openfaas-fn' ? {} : { namespace }), envVars: { GREETING: greeting } });
    assert.equal(r.status, 202, await r.text());
  }
  assert.deepEqual(await gw.get('/system/namespaces'), ['openfaas-fn', 'staging']);
  const main = await ready('echo', 'openfaas-fn');
  const staged = await ready('echo', 'staging');
  assert.notEqual(main.Id, staged.Id);

  const inStaging = (await gw.get('/system/functions?namespace=staging')) as Status[];
  assert.deepEqual(inStaging.map((f) => [f.name, f.namespace, f.envVars['GREETING']]), [['echo', 'staging', 'staged']]);
  const inDefault = (await gw.get('/system/functions')) as Status[];
  assert.deepEqual(inDefault.map((f) => [f.name, f.namespace, f.envVars['GREETING']]), [['echo', 'openfaas-fn', 'default']]);
  assert.equal(((await gw.get('/system/function/echo?namespace=staging')) as Status).envVars['GREETING'], 'staged');
  assert.deepEqual(await gw.get('/system/functions?namespace=empty'), []);

  assert.equal(await hostOf('/function/echo.staging/cgi-bin/echo'), await hostnameOf(staged.Id));
  assert.equal(await hostOf('/function/echo/cgi-bin/echo'), await hostnameOf(main.Id));
  assert.equal(await hostOf('/function/echo.openfaas-fn/cgi-bin/echo'), await hostnameOf(main.Id));
  assert.equal((await gw.fetch('/function/echo.elsewhere', { auth: false })).status, 404);

  const metrics = await gw.fetch('/metrics', { auth: false }).then((r) => r.text());
  assert.match(metrics, /^gateway_function_invocation_total\{function_name="echo\.staging",code="200"\} 1$/m);
  assert.match(metrics, /^gateway_function_invocation_total\{function_name="echo\.openfaas-fn",code="200"\} 2$/m);
  assert.match(metrics, /^gateway_service_count\{function_name="echo\.staging"\} 1$/m);
});

test('async calls and usage per namespace: /async-function/NAME.NAMESPACE reaches that namespace\'s replica; /system/usage?namespace= sums its calls', async (t) => {
  const staged = await ready('echo', 'staging');
  const received: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const r = await gw.fetch('/async-function/echo.staging/cgi-bin/echo', { auth: false, method: 'POST', body: 'later', headers: { 'X-Callback-Url': `http://127.0.0.1:${port}/done` } });
  assert.equal(r.status, 202, await r.text());
  const answer = await until('the callback', () => received[0], 30_000);
  assert.equal(/^host=(.*)$/m.exec(answer)?.[1], await hostnameOf(staged.Id), 'the staging replica answered');
  assert.equal((await gw.fetch('/async-function/echo.elsewhere', { auth: false, method: 'POST', body: '' })).status, 404);

  type Usage = { functions: { name: string; namespace: string; invocations: number }[] };
  const inStaging = (await gw.get('/system/usage?namespace=staging')) as Usage;
  assert.deepEqual(inStaging.functions.map((f) => [f.name, f.namespace]), [['echo', 'staging']]);
  // The synchronous call of the test before and this async one.
  assert.equal(inStaging.functions[0]!.invocations, 2);
  const inDefault = (await gw.get('/system/usage')) as Usage;
  assert.deepEqual(inDefault.functions.map((f) => [f.name, f.namespace, f.invocations]), [['echo', 'openfaas-fn', 2]]);
  assert.equal((await gw.fetch('/system/usage?namespace=Bad_NS')).status, 400);
});

test('an invalid namespace is refused with 400 naming it', async () => {
  const cases: [Promise<Response>, string][] = [
    [gw.deploy({ service: 'x', image: ECHO_IMAGE, namespace: 'Bad_NS' }), 'namespace:'],
    [gw.fetch('/system/functions?namespace=Bad_NS'), 'namespace (query):'],
    [gw.fetch('/system/function/echo?namespace=..'), 'namespace (query):'],
    [gw.fetch('/function/echo.Bad_NS', { auth: false }), 'namespace (path):'],
    [gw.fetch('/system/secrets?namespace=a/b'), 'namespace (query):'],
    [gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'echo', namespace: '../etc' }) }), 'namespace:'],
  ];
  for (const [p, field] of cases) {
    const r = await p;
    const text = await r.text();
    assert.equal(r.status, 400, text);
    assert.ok(text.includes(field), `${field} in ${text}`);
  }
  assert.deepEqual(await gw.get('/system/namespaces'), ['openfaas-fn', 'staging']);
});

test('secrets are per namespace: one in another namespace does not satisfy a deployment; a namespace with a secret is listed', async () => {
  const s = await gw.fetch('/system/secrets', { method: 'POST', body: JSON.stringify({ name: 'key', value: 'v', namespace: 'vault' }) });
  assert.equal(s.status, 201, await s.text());
  assert.deepEqual(await gw.get('/system/namespaces'), ['openfaas-fn', 'staging', 'vault']);
  assert.deepEqual(await gw.get('/system/secrets?namespace=vault'), [{ name: 'key', namespace: 'vault' }]);
  assert.deepEqual(await gw.get('/system/secrets'), []);
  const r = await gw.deploy({ service: 'needs-key', image: ECHO_IMAGE, secrets: ['key'] });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /secrets: "key" not found in namespace openfaas-fn/);
  const del = await gw.fetch('/system/secrets', { method: 'DELETE', body: JSON.stringify({ name: 'key', namespace: 'vault' }) });
  assert.equal(del.status, 204);
});

test('a restarted berthd adopts the replicas of every namespace', async () => {
  const before = [(await ready('echo', 'openfaas-fn')).Id, (await ready('echo', 'staging')).Id];
  await d.kill9();
  await d.restart();
  gw = gatewayClient(d.gateway!, d.root);
  const after = [(await ready('echo', 'openfaas-fn')).Id, (await ready('echo', 'staging')).Id];
  assert.deepEqual(after, before);
  assert.equal(await hostOf('/function/echo.staging/cgi-bin/echo'), await hostnameOf(before[1]!));
});

test('delete in one namespace leaves the other (namespace in the body, or in the query as faas-cli sends it)', async () => {
  const r = await gw.fetch('/system/functions?namespace=staging', { method: 'DELETE', body: JSON.stringify({ functionName: 'echo' }) });
  assert.equal(r.status, 200, await r.text());
  assert.deepEqual(await replicas('echo', 'staging'), []);
  assert.equal((await gw.fetch('/function/echo.staging', { auth: false })).status, 404);
  await ready('echo', 'openfaas-fn');
  assert.equal((await gw.fetch('/function/echo', { auth: false })).status, 200);
  const again = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'echo', namespace: 'staging' }) });
  assert.equal(again.status, 404);
  assert.deepEqual(await gw.get('/system/namespaces'), ['openfaas-fn', 'vault']);
});
