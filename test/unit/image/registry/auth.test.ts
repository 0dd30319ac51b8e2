import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { parseChallenges } from '../../../../src/image/registry/auth.ts';
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
