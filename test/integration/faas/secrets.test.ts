/**
 * Function secrets in a real berthd (as root): `/system/secrets` with
 * OpenFaaS's status codes, kept as files of mode 0600 in directories of
 * mode 0700 under berth's root, names that would be paths refused, each
 * secret of a function bound read-only at /var/openfaas/secrets/NAME and
 * found nowhere else (not in the replica's environment, not in berthd's
 * log, not in /system/logs, not in the engine's inspect output, not in
 * describe), a deployment naming a missing secret refused, an update
 * reaching new replicas, a secret in use not deletable.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importImage } from '../../../src/image/copy/import.ts';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { BUSYBOX_ENV } from '../../helpers/engine.ts';
import { gatewayClient, type GatewayClient } from '../../helpers/faas.ts';
import { makeRootfs } from '../../helpers/runtime.ts';

/** A function that shows what its replica sees: its secrets, its environment, its mounts, whether a secret can be written. */
const SHOW_IMAGE = 'faas-show:latest';
const SHOW = `#!/bin/sh
case "$Http_Query" in
  env) tr '\\0' '\\n' < /proc/1/environ; echo ---; env ;;
  mounts) grep /var/openfaas/secrets /proc/self/mountinfo ;;
  write) if echo changed 2>/dev/null > /var/openfaas/secrets/api-key; then echo wrote; else echo refused; fi ;;
  *) for f in /var/openfaas/secrets/*; do printf '%s=%s\\n' "\${f##*/}" "$(cat "$f")"; done ;;
esac
`;

let d: TestDaemon;
let gw: GatewayClient;

before(async () => {
  d = await startDaemon({
    gateway: true,
    prepare: async (images, scratch) => {
      const rootfs = makeRootfs(scratch);
      writeFileSync(join(rootfs, 'show'), SHOW);
      chmodSync(join(rootfs, 'show'), 0o755);
      await importImage(images, rootfs, { names: [SHOW_IMAGE], config: { Cmd: ['sh'], Env: [BUSYBOX_ENV] } });
    },
  });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  await d?.stop();
});

const secretsDir = (): string => join(d.root, 'faas', 'secrets');
const value = (what: string): string => `${what}-${randomBytes(12).toString('hex')}`;

function secrets(method: string, body: unknown, query = ''): Promise<Response> {
  return gw.fetch(`/system/secrets${query}`, { method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
}

async function expect(r: Promise<Response>, status: number, match?: RegExp): Promise<string> {
  const res = await r;
  const text = await res.text();
  assert.equal(res.status, status, text);
  if (match !== undefined) assert.match(text, match);
  return text;
}

async function replicaIds(fn: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`com.openfaas.function=${fn}`] });
  return ((await d.client.json('GET', '/containers/json', { query: { all: true, filters } })) as { Id: string }[]).map((c) => c.Id);
}

async function ready(fn: string, not: readonly string[] = []): Promise<string> {
  return until(`a ready replica of ${fn}`, async () => {
    const s = (await gw.get(`/system/function/${fn}`)) as { availableReplicas: number };
    const ids = await replicaIds(fn);
    return s.availableReplicas === 1 && ids.length === 1 && !not.includes(ids[0]!) ? ids[0] : undefined;
  }, 60_000);
}

async function call(fn: string, query = ''): Promise<string> {
  const r = await gw.fetch(`/function/${fn}${query === '' ? '' : `?${query}`}`, { auth: false });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return text;
}

test('create, list, update, delete with OpenFaaS status codes; files of mode 0600 in directories of mode 0700', async () => {
  const v1 = value('one');
  await expect(secrets('POST', { name: 'db-pass', value: v1 }), 201);
  await expect(secrets('POST', { name: 'db-pass', value: 'other' }), 409, /secret "db-pass": already exists/);
  const raw = Buffer.from([0, 1, 2, 250, 255, 10]);
  await expect(secrets('POST', { name: 'blob.bin', namespace: 'openfaas-fn', rawValue: raw.toString('base64') }), 201);
  assert.deepEqual(await gw.get('/system/secrets'), [{ name: 'blob.bin', namespace: 'openfaas-fn' }, { name: 'db-pass', namespace: 'openfaas-fn' }]);
  assert.deepEqual(await gw.get('/system/secrets?namespace=openfaas-fn'), await gw.get('/system/secrets'));

  const file = join(secretsDir(), 'openfaas-fn', 'db-pass');
  assert.equal(readFileSync(file, 'utf8'), v1);
  assert.deepEqual(readFileSync(join(secretsDir(), 'openfaas-fn', 'blob.bin')), raw);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(secretsDir(), 'openfaas-fn')).mode & 0o777, 0o700);
  assert.equal(statSync(secretsDir()).mode & 0o777, 0o700);

  const v2 = value('two');
  await expect(secrets('PUT', { name: 'db-pass', value: v2 }), 200);
  assert.equal(readFileSync(file, 'utf8'), v2);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  await expect(secrets('PUT', { name: 'nosuch', value: 'x' }), 404, /secret "nosuch": not found/);
  await expect(secrets('DELETE', { name: 'blob.bin' }), 204);
  await expect(secrets('DELETE', { name: 'blob.bin' }), 404, /secret "blob.bin": not found/);
  assert.equal(existsSync(join(secretsDir(), 'openfaas-fn', 'blob.bin')), false);
  await expect(secrets('DELETE', { name: 'db-pass' }), 204);
  assert.deepEqual(await gw.get('/system/secrets'), []);
});

test('bad secrets are refused with 400 naming the field, nothing written', async () => {
  await expect(secrets('POST', { name: 'novalue' }), 400, /value: a value is required/);
  await expect(secrets('POST', { name: 'badraw', rawValue: 'not base64!' }), 400, /rawValue: not base64/);
  await expect(secrets('POST', { name: 'typo', value: 'x', vaule: 'y' }), 400, /vaule: unknown field/);
  await expect(secrets('POST', { name: 'x', value: 'x', namespace: 'Not_A_Namespace' }), 400, /namespace/);
  await expect(secrets('POST', 'a string'), 400, /body: not a JSON object/);
  assert.deepEqual(await gw.get('/system/secrets'), []);
});

test('path traversal in a secret name: "../x", "/", ".", "..", "a/b" and an absolute path are refused, nothing written outside', async () => {
  for (const name of ['../x', '/', '.', '..', 'a/b', '/etc/passwd', '../../basic-auth-password', '.hidden', '']) {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      await expect(secrets(method, { name, value: 'traversal' }), 400, /secret: name:/);
    }
  }
  assert.deepEqual(await gw.get('/system/secrets'), []);
  assert.equal(existsSync(join(secretsDir(), 'x')), false);
  assert.equal(existsSync(join(d.root, 'faas', 'x')), false);
  assert.notEqual(readFileSync(join(d.root, 'secrets', 'basic-auth-password'), 'utf8'), 'traversal');
});

test('a deployment naming a secret that does not exist is refused with 400 naming it; nothing is deployed', async () => {
  await expect(secrets('POST', { name: 'present', value: 'x' }), 201);
  const r = await gw.deploy({ service: 'needs', image: SHOW_IMAGE, envProcess: '/show', secrets: ['present', 'absent'] });
  const text = await r.text();
  assert.equal(r.status, 400, text);
  assert.match(text, /secrets: "absent" not found in namespace openfaas-fn/);
  assert.doesNotMatch(text, /"present"/);
  assert.equal((await gw.fetch('/system/function/needs')).status, 404);
  assert.deepEqual(await replicaIds('needs'), []);
  await expect(secrets('DELETE', { name: 'present' }), 204);
});

test('secrets mounted read-only at /var/openfaas/secrets/NAME, and nowhere else: not in the environment, the logs, inspect or describe', async () => {
  const apiKey = value('api-key');
  const token = value('token');
  await expect(secrets('POST', { name: 'api-key', value: apiKey }), 201);
  await expect(secrets('POST', { name: 'token', rawValue: Buffer.from(token).toString('base64') }), 201);
  const r = await gw.deploy({ service: 'show', image: SHOW_IMAGE, envProcess: '/show', secrets: ['api-key', 'token'], envVars: { write_debug: 'true' } });
  assert.equal(r.status, 202, await r.text());
  const id = await ready('show');

  assert.equal(await call('show'), `api-key=${apiKey}\ntoken=${token}\n`);
  assert.equal(await call('show', 'write'), 'refused\n', 'a secret cannot be written from inside');
  const mounts = await call('show', 'mounts');
  const lines = mounts.trim().split('\n');
  assert.equal(lines.length, 2, mounts);
  for (const l of lines) assert.match(l, /\/var\/openfaas\/secrets\/(api-key|token) \S*\bro\b/, l);

  const env = await call('show', 'env');
  assert.match(env, /fprocess=\/show/, 'the environment was read');
  const inspect = JSON.stringify(await d.client.json('GET', `/containers/${id}/json`));
  assert.match(inspect, /\/var\/openfaas\/secrets\/api-key/, 'inspect shows the mount');
  const describe = JSON.stringify(await gw.get('/system/function/show'));
  assert.match(describe, /"secrets":\["api-key","token"\]/);
  const logs = await gw.fetch('/system/logs?name=show').then((x) => x.text());
  const all = { env, inspect, describe, '/system/logs': logs, "berthd's log": d.log() };
  for (const [where, text] of Object.entries(all)) {
    assert.ok(!text.includes(apiKey), `api-key's value in ${where}`);
    assert.ok(!text.includes(token), `token's value in ${where}`);
  }
});

test('an updated secret reaches new replicas; a running replica keeps the value it started with', async () => {
  const before = await ready('show');
  const apiKey = value('api-key-2');
  await expect(secrets('PUT', { name: 'api-key', value: apiKey }), 200);
  assert.doesNotMatch(await call('show'), new RegExp(apiKey), 'the running replica');
  await d.client.request('POST', `/containers/${before}/kill`);
  await ready('show', [before]);
  assert.match(await call('show'), new RegExp(`^api-key=${apiKey}$`, 'm'), 'a new replica');
  assert.ok(!d.log().includes(apiKey));
});

test('a secret in use cannot be deleted (409 naming the function); once the function is gone it can', async () => {
  await expect(secrets('DELETE', { name: 'api-key' }), 409, /secret "api-key": in use by function "show"/);
  assert.ok(existsSync(join(secretsDir(), 'openfaas-fn', 'api-key')));
  const del = await gw.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: 'show' }) });
  assert.equal(del.status, 200, await del.text());
  await expect(secrets('DELETE', { name: 'api-key' }), 204);
  await expect(secrets('DELETE', { name: 'token' }), 204);
  assert.deepEqual(await gw.get('/system/secrets'), []);
});
