import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { berthOk } from '../../helpers/registry-cli.ts';
import { tempDir } from '../../helpers/registry-tmp.ts';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'berth', 'main.ts');

function berthProcess(args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { input, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

test('berth save writes the archive to stdout and berth load reads it from stdin', async (t) => {
  const dir = tempDir(t);
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(tree, 'etc', 'piped'), 'through a pipe\n');
  const id = (await berthOk('--root', join(dir, 'a'), '--quiet', 'import', tree, 'piped:v1')).stdout.trim();
  for (const format of ['docker-archive', 'oci-archive']) {
    const saved = berthProcess(['--root', join(dir, 'a'), '--quiet', 'save', '--format', format, 'piped:v1']);
    assert.equal(saved.status, 0, saved.stderr);
    assert.ok(saved.stdout.length > 1024, `${format}: an archive on stdout`);
    const loaded = berthProcess(['--root', join(dir, `b-${format}`), '--quiet', 'load'], saved.stdout);
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.equal(loaded.stdout.toString(), 'Loaded image: localhost/piped:v1\n');
    const [img] = JSON.parse((await berthOk('--root', join(dir, `b-${format}`), 'images', '--json')).stdout) as { Id: string }[];
    assert.equal(img?.Id, id, format);
  }
});
