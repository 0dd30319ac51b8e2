/**
 * Warming the cgroup join (src/runtime/cgroups/warm.ts) on fake v1, v2 and
 * hybrid trees: this process writes "0" (itself) into the cgroup.procs of
 * the cgroup it is in, again and again until stopped, and nothing else.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { ownProcsFile, readLayout } from '../../../src/runtime/cgroups/paths.ts';
import { warmCgroupJoin } from '../../../src/runtime/cgroups/warm.ts';
import { TreeCgroupFs } from '../../../src/runtime/cgroups/fs.ts';
import { fakeHost } from './fake-host.ts';

const until = async (what: string, check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

for (const mode of ['v1', 'v2', 'hybrid'] as const) {
  test(`${mode}: this process's own cgroup.procs gets "0" until stopped, and nothing else is written`, async (t) => {
    const host = fakeHost(t, mode);
    const procs = ownProcsFile(readLayout(new TreeCgroupFs(host.root))) ?? assert.fail('no cgroup.procs of its own');
    assert.ok(procs.endsWith('/cgroup.procs'));
    if (mode === 'v2') assert.ok(procs.startsWith('/sys/fs/cgroup/'), procs);
    else assert.doesNotMatch(procs, /unified/, 'a v1 hierarchy where there is one');
    host.write(procs, '');
    const stop = warmCgroupJoin(host.root);
    await until('two writes', () => host.read(procs).length >= 2);
    stop();
    const written = host.read(procs);
    assert.match(written, /^0+$/);
    // Stopped means stopped: no write comes after.
    await new Promise((r) => setTimeout(r, 20));
    const after = host.read(procs);
    assert.ok(after.length <= written.length + 1, `${after.length} > ${written.length + 1}`);
  });
}

test('an own cgroup.procs that cannot be opened (rootless, say) warms nothing and throws nothing', async (t) => {
  const host = fakeHost(t, 'hybrid');
  const procs = ownProcsFile(readLayout(new TreeCgroupFs(host.root)))!;
  rmSync(host.path(procs));
  mkdirSync(host.path(procs));
  const stop = warmCgroupJoin(host.root);
  await new Promise((r) => setTimeout(r, 20));
  stop();
  assert.deepEqual(readdirSync(host.path(procs)), []);
});

test('without any cgroup file system it does nothing', () => {
  const stop = warmCgroupJoin('/nonexistent-berth-root');
  stop();
});

test('a resident process finds its cgroup.procs once while its cgroup stays the same; a move makes it look again', async (t) => {
  const host = fakeHost(t, 'v2');
  const procs = ownProcsFile(readLayout(new TreeCgroupFs(host.root)))!;
  host.write(procs, '');
  warmCgroupJoin(host.root)();
  // No mountinfo to read any more: the cgroup.procs found before is warmed all the same.
  rmSync(host.path('/proc/self/mountinfo'));
  host.write(procs, '');
  const stop = warmCgroupJoin(host.root);
  await until('a write', () => host.read(procs).length >= 1);
  stop();
  // Moved to another cgroup: looked up again (and, with no mountinfo, nothing is warmed).
  host.write('/proc/self/cgroup', '0::/elsewhere\n');
  host.write(procs, '');
  const moved = warmCgroupJoin(host.root);
  await new Promise((r) => setTimeout(r, 20));
  moved();
  assert.equal(host.read(procs), '');
});
