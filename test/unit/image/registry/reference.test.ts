import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import {
  familiarName,
  formatReference,
  parseReference,
  referenceDefaultsFromEnv,
  withDefaultTag,
} from '../../../../src/image/registry/reference.ts';

const D = { registry: 'registry.test', officialNamespace: 'library' };
const hex = 'a'.repeat(64);

test('names normalise like the docker CLI', () => {
  const cases: [string, string][] = [
    ['busybox', 'registry.test/library/busybox'],
    ['busybox:1.36', 'registry.test/library/busybox:1.36'],
    ['team/app', 'registry.test/team/app'],
    ['localhost/app', 'localhost/app'],
    ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
    ['127.0.0.1:5000/a/b/c:tag', '127.0.0.1:5000/a/b/c:tag'],
    ['Host.Example/app', 'Host.Example/app'],
    ['[::1]:5000/app', '[::1]:5000/app'],
    [`app@sha256:${hex}`, `registry.test/library/app@sha256:${hex}`],
    [`127.0.0.1:5000/app:v1@sha256:${hex}`, `127.0.0.1:5000/app:v1@sha256:${hex}`],
    ['a__b/c.d-e---f', 'registry.test/a__b/c.d-e---f'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input, D)), want, input);
});

test('without a configured default registry, bare names live under localhost/', () => {
  const ref = parseReference('busybox');
  assert.equal(formatReference(withDefaultTag(ref)), 'localhost/busybox:latest');
  assert.equal(ref.implicitDomain, true);
  assert.equal(parseReference('127.0.0.1:5000/x').implicitDomain, false);
});

test('bad references name what is wrong', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['team/Upper', /lowercase/],
    ['app:bad tag', /tag/],
    ['app:-x', /tag/],
    ['app@sha256:xyz', /digest/],
    ['host:5000/', /repository/],
    ['a//b', /repository/],
    ['app/', /repository/],
    [`x/${'a'.repeat(260)}`, /longer than 255/],
    ['-bad.host:1/app', /registry/],
  ];
  for (const [input, msg] of bad) {
    assert.throws(() => parseReference(input, D), (err) => isBerthError(err, 'invalid_reference') && msg.test(err.message), input);
  }
});

test('familiar names drop the default registry and official namespace', () => {
  assert.equal(familiarName('registry.test/library/busybox:latest', D), 'busybox:latest');
  assert.equal(familiarName('registry.test/team/app:v1', D), 'team/app:v1');
  assert.equal(familiarName('127.0.0.1:5000/app:v1', D), '127.0.0.1:5000/app:v1');
  assert.equal(familiarName('localhost/app:v1'), 'localhost/app:v1');
});

test('defaults come from the environment and are validated', () => {
  assert.deepEqual(referenceDefaultsFromEnv({ BERTH_DEFAULT_REGISTRY: 'mirror.test:5000', BERTH_OFFICIAL_NAMESPACE: 'library' }), {
    registry: 'mirror.test:5000',
    officialNamespace: 'library',
  });
  assert.deepEqual(referenceDefaultsFromEnv({}), {});
  assert.throws(() => referenceDefaultsFromEnv({ BERTH_DEFAULT_REGISTRY: 'bad host' }), (err) => isBerthError(err, 'invalid_default_registry'));
});
