import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { authorized, loadCredentials } from '../../../src/faas/auth.ts';
import { tempDir } from '../../helpers/cleanup.ts';

const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;

test('credentials are made at first start (0600, user admin, a random password) and read as they are afterwards', (t) => {
  const root = tempDir(t, 'faas-auth-');
  const first = loadCredentials(root);
  assert.equal(first.user, 'admin');
  assert.ok(first.password.length >= 24);
  for (const f of ['basic-auth-user', 'basic-auth-password']) assert.equal(statSync(join(root, 'secrets', f)).mode & 0o777, 0o600);
  assert.deepEqual(loadCredentials(root), first, 'the same at the next start');
  assert.notEqual(loadCredentials(tempDir(t, 'faas-auth-')).password, first.password, 'another root, another password');
  writeFileSync(join(root, 'secrets', 'basic-auth-password'), 'chosen\n');
  assert.equal(loadCredentials(root).password, 'chosen', "an operator's own password is kept");
  assert.equal(readFileSync(join(root, 'secrets', 'basic-auth-user'), 'utf8'), 'admin');
});

test('only the right user and password pass', () => {
  const c = { user: 'admin', password: 's3cret:with-colon' };
  assert.equal(authorized(basic('admin:s3cret:with-colon'), c), true);
  assert.equal(authorized(basic('admin:s3cret'), c), false);
  assert.equal(authorized(basic('root:s3cret:with-colon'), c), false);
  assert.equal(authorized(basic('admin'), c), false);
  assert.equal(authorized(basic(':'), { user: '', password: '' }), true);
  assert.equal(authorized(undefined, c), false);
  assert.equal(authorized('Bearer abc', c), false);
  assert.equal(authorized(`basic ${Buffer.from('admin:s3cret:with-colon').toString('base64')}`, c), true, 'the scheme is case-insensitive');
});
