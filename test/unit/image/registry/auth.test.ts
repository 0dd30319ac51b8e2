import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeError, isBerthError } from '../../../../src/errors.ts';
import { Authenticator, MAX_TOKEN_ANSWER_BYTES, parseChallenges } from '../../../../src/image/registry/auth.ts';
import { send } from '../../../../src/image/registry/http.ts';
import { flood, hostileRegistry, type Handler } from '../../../helpers/hostile-registry.ts';
import { waitFor } from '../../../helpers/runtime.ts';
import { lookupCredentials, normalizeAuthKey, removeCredentials, storeCredentials } from '../../../../src/image/registry/credentials.ts';
import { tempDir } from '../../../helpers/registry-tmp.ts';

test('WWW-Authenticate challenges parse with quoted, escaped and bare parameters', () => {
  assert.deepEqual(parseChallenges('Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 'reg', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseChallenges('Basic realm=simple, Bearer realm="x\\"y", error="invalid_token"'), [
    { scheme: 'basic', params: { realm: 'simple' } },
    { scheme: 'bearer', params: { realm: 'x"y', error: 'invalid_token' } },
  ]);
  assert.deepEqual(parseChallenges(''), []);
});

test('credentials round-trip through the docker config file, keeping other keys', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'docker', 'config.json');
  assert.equal(await lookupCredentials('127.0.0.1:5000', file), undefined);
  await storeCredentials('127.0.0.1:5000', { username: 'alice', password: 'p:w' }, file);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
  assert.equal(doc.auths['127.0.0.1:5000']?.auth, Buffer.from('alice:p:w').toString('base64'));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(await lookupCredentials('127.0.0.1:5000', file), { username: 'alice', password: 'p:w' });

  writeFileSync(file, JSON.stringify({ credHelpers: { x: 'y' }, auths: { 'https://reg.test:443/v1/': { auth: Buffer.from('bob:pw').toString('base64') } } }));
  assert.deepEqual(await lookupCredentials('reg.test:443', file), { username: 'bob', password: 'pw' });
  assert.equal(await removeCredentials('reg.test:443', file), true);
  assert.equal(await removeCredentials('reg.test:443', file), false);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { credHelpers: { x: 'y' }, auths: {} });
});

test('a broken auth file is an error naming the file and the entry', async (t) => {
  const file = join(tempDir(t), 'config.json');
  writeFileSync(file, '{not json');
  await assert.rejects(lookupCredentials('h', file), (err) => isBerthError(err, 'invalid_auth_file') && err.message.includes(file));
  writeFileSync(file, JSON.stringify({ auths: { h: { auth: Buffer.from('nocolon').toString('base64') } } }));
  await assert.rejects(lookupCredentials('h', file), (err) => isBerthError(err, 'invalid_auth_file') && err.message.includes('auths["h"]'));
});

test('auth keys normalise like the docker CLI', () => {
  assert.equal(normalizeAuthKey('https://index.test/v1/'), 'index.test');
  assert.equal(normalizeAuthKey('127.0.0.1:5000'), '127.0.0.1:5000');
});

/** A registry whose 401 sends the client to its own /token, answered by `token`. */
async function tokenFrom(t: Parameters<typeof hostileRegistry>[0], token: Handler): Promise<{ auth: Promise<string | undefined>; cutOff: Set<string> }> {
  let realm = '';
  const reg = await hostileRegistry(t, {
    '/v2/app/manifests/v1': (_req, res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="reg"` }).end(),
    '/token': token,
  });
  realm = `http://${reg.host}/token`;
  const res = await send({ method: 'GET', url: new URL(`http://${reg.host}/v2/app/manifests/v1`) });
  res.body.resume();
  const auth = new Authenticator(reg.host, undefined, true);
  assert.ok(auth.onUnauthorized(res, ['repository:app:pull']));
  return { auth: auth.authorization(['repository:app:pull']), cutOff: reg.cutOff };
}

test('hostile token server: an answer that is not JSON is never echoed (terminal escapes, secrets), only named', async (t) => {
  const hostile = '\x1b]0;pwned\x07\x1b[2J SECRET-from-the-token-server';
  const { auth } = await tokenFrom(t, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(hostile));
  await assert.rejects(auth, (err) => {
    const text = describeError(err);
    return isBerthError(err, 'registry_unauthorized') && /token server http:\/\/127\.0\.0\.1:\d+\/token: answer is not JSON/.test(text) && !text.includes('SECRET') && !text.includes('\x1b');
  });
});

test('hostile token server: an answer over 1 MiB is refused at the limit, not read whole or parsed', async (t) => {
  const { auth, cutOff } = await tokenFrom(t, (_req, res) => flood(res.writeHead(200), Buffer.alloc(64 * 1024, 0x20)));
  await assert.rejects(auth, (err) => isBerthError(err, 'too_large') && /token server .*: answer: more than the limit of 1 MiB/.test(describeError(err)) && !describeError(err).includes('JSON'));
  assert.equal(MAX_TOKEN_ANSWER_BYTES, 1024 * 1024);
  await waitFor('the client to close the connection', () => cutOff.has('/token') || undefined);
});
