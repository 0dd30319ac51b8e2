import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildArgsFrom, findContainerfile } from '../../../../src/image/build/request.ts';
import { isBerthError } from '../../../../src/errors.ts';
import { tempDir } from '../../../helpers/registry-tmp.ts';

test('the Containerfile: the one named, else Containerfile before Dockerfile in the context', (t) => {
  const dir = tempDir(t);
  const context = join(dir, 'ctx');
  mkdirSync(context);
  assert.throws(() => findContainerfile(context), (e) => isBerthError(e, 'build.file') && e.message.includes(`no Containerfile or Dockerfile in "${context}"`));
  writeFileSync(join(context, 'Dockerfile'), 'FROM d\n');
  assert.deepEqual(findContainerfile(context), { text: 'FROM d\n', name: 'Dockerfile' });
  writeFileSync(join(context, 'Containerfile'), 'FROM c\n');
  assert.deepEqual(findContainerfile(context), { text: 'FROM c\n', name: 'Containerfile' });
  const named = join(dir, 'Other');
  writeFileSync(named, 'FROM o\n');
  assert.deepEqual(findContainerfile(context, named), { text: 'FROM o\n', name: named });
  assert.throws(() => findContainerfile(context, join(dir, 'missing')), (e) => isBerthError(e, 'build.file') && e.message.includes('cannot be read'));
});

test('build args: KEY=VALUE, a bare KEY from the environment (left out when unset), =VALUE refused', () => {
  const args = buildArgsFrom(['A=1', 'B=x=y', 'HOME_ISH', 'UNSET', 'E='], { HOME_ISH: '/h' });
  assert.deepEqual([...args], [['A', '1'], ['B', 'x=y'], ['HOME_ISH', '/h'], ['E', '']]);
  assert.throws(() => buildArgsFrom(['=1'], {}), (e) => isBerthError(e, 'invalid_build_arg') && e.message.includes('--build-arg "=1": want KEY=VALUE'));
});
