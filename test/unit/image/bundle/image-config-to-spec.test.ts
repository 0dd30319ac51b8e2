import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageConfigToSpec, ANNOTATION } from '../../../../src/image/bundle/image-config-to-spec.ts';
import { defaultSpec } from '../../../../src/oci/default-spec.ts';
import type { ImageConfig } from '../../../../src/oci/image-spec.ts';
import { isBerthError } from '../../../../src/errors.ts';

const image: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-05-06T07:08:09.123456789Z',
  author: 'berth tests',
  config: {
    User: 'app',
    Env: ['PATH=/app/bin:/usr/bin', 'LANG=C.UTF-8'],
    Entrypoint: ['/app/entry'],
    Cmd: ['--serve', '8080'],
    WorkingDir: '/app',
    ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
    Volumes: { '/data': {}, '/cache': {} },
    StopSignal: 'SIGQUIT',
    Labels: { 'org.example.team': 'images' },
  },
  rootfs: { type: 'layers', diff_ids: [] },
};

test('an image config becomes the default spec with the image\'s process, mounts and annotations', () => {
  const spec = imageConfigToSpec(image, { userDb: { passwd: 'app:x:500:600::/home/app:/bin/sh\n', group: 'extra:x:700:app\n' } });
  const base = defaultSpec();
  assert.equal(spec.process?.terminal, false);
  assert.deepEqual(spec.root, { path: 'rootfs', readonly: false });
  assert.deepEqual(spec.process?.args, ['/app/entry', '--serve', '8080']);
  assert.equal(spec.process?.cwd, '/app');
  assert.deepEqual(spec.process?.user, { uid: 500, gid: 600, additionalGids: [700] });
  assert.deepEqual(spec.process?.env, ['PATH=/app/bin:/usr/bin', 'TERM=xterm', 'LANG=C.UTF-8', 'HOME=/home/app']);
  assert.deepEqual(spec.process?.capabilities, base.process?.capabilities);
  assert.deepEqual(spec.linux?.namespaces, base.linux?.namespaces);
  assert.deepEqual(spec.annotations, {
    'org.example.team': 'images',
    [ANNOTATION.os]: 'linux',
    [ANNOTATION.architecture]: 'amd64',
    [ANNOTATION.author]: 'berth tests',
    [ANNOTATION.created]: '2024-05-06T07:08:09Z',
    [ANNOTATION.stopSignal]: 'SIGQUIT',
    [ANNOTATION.exposedPorts]: '53/udp,8080/tcp',
  });
  const volumes = spec.mounts?.filter((m) => m.source === 'none');
  assert.deepEqual(volumes?.map((m) => [m.destination, m.type]), [['/cache', 'tmpfs'], ['/data', 'tmpfs']]);
  assert.deepEqual(spec.mounts?.slice(0, base.mounts?.length), base.mounts);
});

test('an image without a process keeps the default args, cwd and root user', () => {
  const spec = imageConfigToSpec({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  assert.deepEqual(spec.process?.args, ['sh']);
  assert.equal(spec.process?.cwd, '/');
  assert.deepEqual(spec.process?.user, { uid: 0, gid: 0, additionalGids: [] });
  assert.ok(spec.process?.env?.includes('HOME=/'));
  assert.equal(spec.annotations?.[ANNOTATION.exposedPorts], undefined);
});

test('bad fields are refused naming the field', () => {
  const bad = (config: NonNullable<ImageConfig['config']>, os = 'linux'): ImageConfig => ({ architecture: 'amd64', os, config, rootfs: { type: 'layers', diff_ids: [] } });
  const cases: [ImageConfig, string, RegExp][] = [
    [bad({}, 'windows'), 'image_os', /os "windows"/],
    [bad({ Env: ['NOEQUALS'] }), 'image_env', /Env "NOEQUALS": not NAME=value/],
    [bad({ WorkingDir: 'rel' }), 'image_workdir', /WorkingDir "rel": not absolute/],
    [bad({ Volumes: { data: {} } }), 'image_volume', /Volumes "data": not absolute/],
    [bad({ User: 'ghost' }), 'image_user', /no user "ghost"/],
  ];
  for (const [img, code, pattern] of cases) {
    assert.throws(() => imageConfigToSpec(img), (err: unknown) => isBerthError(err, code) && pattern.test(err.message));
  }
});
