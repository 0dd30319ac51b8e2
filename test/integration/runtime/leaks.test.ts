/**
 * 1,000 create/delete cycles through the library (as the engine drives the
 * runtime) leave nothing behind (root): no cgroup, no mount, no process, no
 * state directory, no file descriptor of the resident process.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runtimeContext } from '../../../src/runtime/lifecycle/context.ts';
import { create } from '../../../src/runtime/lifecycle/create.ts';
import { deleteContainer } from '../../../src/runtime/lifecycle/delete.ts';
import { berthOnly, makeBundle, onCleanup, tempDir, uniqueId } from '../../helpers/runtime.ts';

const CYCLES = Number(process.env['BERTH_LEAK_CYCLES'] ?? 1000);

/** This test's cgroups (its containers' names share a prefix): other work on the machine may have its own. */
function cgroupDirs(prefix: string): number {
  let n = 0;
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    try {
      n += readdirSync(join('/sys/fs/cgroup', ctrl, 'berth'), { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.startsWith(prefix)).length;
    } catch {
      // No berth parent in this hierarchy.
    }
  }
  return n;
}

function mounts(): number {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
}

/**
 * Processes running the executor that are this test's: started by this process, or in one of its
 * containers' cgroups (other work on the machine may run executors of its own).
 */
function executors(prefix: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('berth-exec')) continue;
      const ppid = /^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
      if (ppid === String(process.pid) || readFileSync(`/proc/${pid}/cgroup`, 'latin1').includes(`/${prefix}`)) n++;
    } catch {
      // Gone meanwhile.
    }
  }
  return n;
}

function fds(): number {
  return readdirSync('/proc/self/fd').length;
}

test(`${CYCLES} create/delete cycles leak no cgroup, mount, process, state or fd (root)`, { timeout: 30 * 60_000, skip: berthOnly('it drives berth\'s runtime library, no command') }, async (t) => {
  const bundle = makeBundle(t, { args: ['sleep', '1000'] });
  const root = tempDir(t, 'berth-leaks-');
  const ctx = runtimeContext(root);
  const prefix = uniqueId('leak');
  // One warm-up cycle so lazily created things (the berth cgroup parents, loaded modules) exist before counting.
  await create(ctx, `${prefix}-warm`, { bundle: bundle.dir, stdio: ['ignore', 'ignore', 'inherit'] });
  await deleteContainer(ctx, `${prefix}-warm`);
  const before = { cgroups: cgroupDirs(prefix), mounts: mounts(), executors: executors(prefix), fds: fds() };
  onCleanup(t, async () => {
    for (const id of existsSync(root) ? readdirSync(root) : []) await deleteContainer(ctx, id, true).catch(() => undefined);
  });

  for (let i = 0; i < CYCLES; i++) {
    const id = `${prefix}-${i}`;
    const created = await create(ctx, id, { bundle: bundle.dir, stdio: ['ignore', 'ignore', 'inherit'] });
    assert.ok(created.pid > 0);
    await deleteContainer(ctx, id);
  }

  const after = { cgroups: cgroupDirs(prefix), mounts: mounts(), executors: executors(prefix), fds: fds() };
  assert.deepEqual(after, before);
  assert.deepEqual(readdirSync(root), []);
});
