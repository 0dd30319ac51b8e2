/**
 * What `berth build` makes, read by tools nobody here wrote (root): skopeo
 * inspects the image exported as an OCI layout, umoci unpacks it, and runc
 * runs the bundle umoci made, and the one `berth image unpack` made.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { buildFixture } from '../integration/image/build-fixture.ts';
import { tool } from '../helpers/tool.ts';

const run = promisify(execFile);


test('skopeo inspects, umoci unpacks and runc runs an image berth built, as it runs berth\'s own bundle of it (root)', async (t) => {
  const f = await buildFixture(t);
  f.write({
    'msg.txt': 'built by berth\n',
    Containerfile: 'FROM busybox\nWORKDIR /work\nCOPY msg.txt .\nRUN rm /etc/group && echo ran > ran.txt\nENV WHO=berth\nUSER nobody\nCMD ["sh", "-c", "cat msg.txt ran.txt; echo $WHO; id -u; test -e /etc/group || echo no-group"]\n',
  });
  await f.berthOk('--quiet', 'build', '-t', 'compat:1', f.context);
  const layout = join(f.dir, 'layout');
  await f.berthOk('--quiet', 'image', 'copy', 'berth:compat:1', `oci:${layout}:compat`);

  const inspect = JSON.parse(await tool('skopeo', 'inspect', `oci:${layout}:compat`)) as { Layers: string[]; Env: string[]; Os: string };
  const config = JSON.parse(await tool('skopeo', 'inspect', '--config', `oci:${layout}:compat`)) as {
    config: { User: string; WorkingDir: string; Cmd: string[] };
    rootfs: { diff_ids: string[] };
    history: { empty_layer?: boolean; created_by?: string }[];
  };
  assert.equal(inspect.Layers.length, 4, 'base, WORKDIR, COPY, RUN');
  assert.ok(inspect.Env.includes('WHO=berth'));
  assert.equal(config.config.User, 'nobody');
  assert.equal(config.config.WorkingDir, '/work');
  assert.equal(config.history.filter((h) => h.empty_layer !== true).length, config.rootfs.diff_ids.length);

  const bundle = join(f.dir, 'umoci-bundle');
  await tool('umoci', 'unpack', '--image', `${layout}:compat`, bundle);
  const specPath = join(bundle, 'config.json');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { process: { terminal?: boolean } };
  spec.process.terminal = false;
  writeFileSync(specPath, JSON.stringify(spec));
  const id = `berth-build-compat-${process.pid}`;
  const state = join(f.dir, 'runc');
  try {
    const out = await tool('runc', '--root', state, 'run', '--bundle', bundle, id);
    assert.equal(out, 'built by berth\nran\nberth\n65534\nno-group\n');
  } finally {
    await run('runc', ['--root', state, 'delete', '--force', id]).catch(() => undefined);
  }

  // And the bundle `berth image unpack` makes runs under runc the same way.
  const own = join(f.dir, 'berth-bundle');
  await f.berthOk('--quiet', 'image', 'unpack', 'compat:1', own);
  try {
    assert.equal(await tool('runc', '--root', state, 'run', '--bundle', own, `${id}-2`), 'built by berth\nran\nberth\n65534\nno-group\n');
  } finally {
    await run('runc', ['--root', state, 'delete', '--force', `${id}-2`]).catch(() => undefined);
  }
});
