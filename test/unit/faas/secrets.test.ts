/** The secret store (src/faas/secrets.ts) on a scratch root: names checked before they are paths, atomic create and update, modes. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { checkSecretName, SecretStore } from '../../../src/faas/secrets.ts';

const root = mkdtempSync(join(tmpdir(), 'berth-secrets-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('path traversal: names that are not one plain path component are refused', () => {
  for (const name of ['../x', '/', '.', '..', 'a/b', '/abs', 'x/..', '.hidden', 'trailing-', '', 'a'.repeat(254), 'nul\0']) {
    assert.throws(() => checkSecretName(name), (err) => isBerthError(err, 'faas_secret_invalid'), JSON.stringify(name));
  }
  for (const name of ['a', 'db-pass', 'tls.crt', 'API_KEY', '0']) assert.equal(checkSecretName(name), name);
  const s = new SecretStore(root);
  assert.throws(() => s.path('openfaas-fn', '../x'), (err) => isBerthError(err, 'faas_secret_invalid'));
});

test('create refuses a taken name, update an unknown one, remove an unknown one; files 0600, directories 0700, no temporary left', () => {
  const s = new SecretStore(root);
  s.create('openfaas-fn', 'a', Buffer.from('one'));
  assert.throws(() => s.create('openfaas-fn', 'a', Buffer.from('two')), (err) => isBerthError(err, 'faas_secret_exists'));
  assert.equal(readFileSync(s.path('openfaas-fn', 'a'), 'utf8'), 'one');
  const ino = statSync(s.path('openfaas-fn', 'a')).ino;
  s.update('openfaas-fn', 'a', Buffer.from('three'));
  assert.equal(readFileSync(s.path('openfaas-fn', 'a'), 'utf8'), 'three');
  assert.notEqual(statSync(s.path('openfaas-fn', 'a')).ino, ino, 'replaced by a rename: a running bind keeps the old file');
  assert.throws(() => s.update('openfaas-fn', 'b', Buffer.from('x')), (err) => isBerthError(err, 'faas_secret_not_found'));
  assert.throws(() => s.remove('openfaas-fn', 'b'), (err) => isBerthError(err, 'faas_secret_not_found'));
  assert.equal(statSync(s.path('openfaas-fn', 'a')).mode & 0o777, 0o600);
  assert.equal(statSync(join(s.dir, 'openfaas-fn')).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(join(s.dir, 'openfaas-fn')), ['a']);
  assert.deepEqual(s.list('openfaas-fn'), ['a']);
  assert.deepEqual(s.list('other'), []);
  s.remove('openfaas-fn', 'a');
  assert.equal(s.exists('openfaas-fn', 'a'), false);
});
