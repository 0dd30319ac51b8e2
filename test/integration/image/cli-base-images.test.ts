import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { berthOk } from '../../helpers/registry-cli.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..', '..');

/** Runs a bundle with runc (state under the test's own directory) and returns its stdout. */
async function runcRun(stateDir: string, bundle: string, id: string, args: string[]): Promise<string> {
  const specPath = join(bundle, 'config.json');
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { process: { args: string[]; terminal?: boolean } };
  spec.process.args = args;
  spec.process.terminal = false;
  writeFileSync(specPath, JSON.stringify(spec));
  try {
    return (await run('runc', ['--root', stateDir, 'run', '--bundle', bundle, id])).stdout;
  } finally {
    await run('runc', ['--root', stateDir, 'delete', '--force', id]).catch(() => undefined);
  }
}

test('make-base-images.sh builds busybox and node-base images that run (root)', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  await run(join(repo, 'build', 'node'), [join(repo, 'scripts', 'build.ts')]);
  await run(join(repo, 'scripts', 'make-base-images.sh'), ['--root', root], { maxBuffer: 16 << 20 });
  const images = JSON.parse((await berthOk('--root', root, 'images', '--json')).stdout) as { RepoTags: string[] }[];
  assert.deepEqual(images.flatMap((i) => i.RepoTags).sort(), ['localhost/busybox:latest', 'localhost/node-base:latest']);

  const bb = join(dir, 'busybox-bundle');
  await berthOk('--root', root, '--quiet', 'image', 'unpack', 'busybox', bb);
  assert.equal(await runcRun(join(dir, 'runc'), bb, `berth-bb-${process.pid}`, ['echo', 'hi from busybox']), 'hi from busybox\n');

  const nb = join(dir, 'node-bundle');
  await berthOk('--root', root, '--quiet', 'image', 'unpack', 'node-base', nb);
  const out = await runcRun(join(dir, 'runc'), nb, `berth-node-${process.pid}`, ['node', '-e', 'console.log(process.version)']);
  assert.equal(out, `${process.version}\n`);
});
