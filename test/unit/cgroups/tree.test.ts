import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanupErrorsOf, describeError, isBerthError } from '../../../src/errors.ts';
import type { CgroupFs } from '../../../src/runtime/cgroups/fs.ts';
import { makeDirs, removeCreated } from '../../../src/runtime/cgroups/tree.ts';

/** Directories in memory; mkdir and rmdir fail where told, with the errno the kernel would give. */
function memoryFs(fail: { mkdir?: string; rmdir?: Set<string> }): CgroupFs & { dirs: Set<string> } {
  const dirs = new Set(['/sys/fs/cgroup']);
  const errno = (code: string, path: string): Error => Object.assign(new Error(`${code}: ${path}`), { code });
  const unused = (): never => assert.fail('not used by makeDirs');
  return {
    dirs,
    exists: (p) => Promise.resolve(dirs.has(p)),
    mkdir: (p) => {
      if (p === fail.mkdir) return Promise.reject(errno('ENOSPC', p));
      if (dirs.has(p)) return Promise.resolve(false);
      dirs.add(p);
      return Promise.resolve(true);
    },
    rmdir: (p) => {
      if (fail.rmdir?.has(p) === true) return Promise.reject(errno('EBUSY', p));
      dirs.delete(p);
      return Promise.resolve();
    },
    read: unused,
    readSync: unused,
    write: unused,
    subdirs: unused,
    files: unused,
    hostPath: (p) => p,
  };
}

test('a failed create removes the directories it made', async () => {
  const fs = memoryFs({ mkdir: '/sys/fs/cgroup/a/b/c' });
  await assert.rejects(makeDirs(fs, '/sys/fs/cgroup/a/b/c'), (err: unknown) => isBerthError(err, 'cgroup_io_failed') && cleanupErrorsOf(err).length === 0);
  assert.deepEqual([...fs.dirs], ['/sys/fs/cgroup']);
});

test('a directory the undo cannot remove is reported beside the create failure, not instead of it', async () => {
  const fs = memoryFs({ mkdir: '/sys/fs/cgroup/a/b/c', rmdir: new Set(['/sys/fs/cgroup/a/b']) });
  await assert.rejects(makeDirs(fs, '/sys/fs/cgroup/a/b/c'), (err: unknown) => {
    assert.ok(isBerthError(err, 'cgroup_io_failed'), String(err));
    assert.match(err.message, /create \/sys\/fs\/cgroup\/a\/b\/c: ENOSPC/);
    assert.match(describeError(err), /; cleanup also failed: cgroup: remove \/sys\/fs\/cgroup\/a\/b: EBUSY/);
    return true;
  });
  // The undo went on past the failure: the top directory is gone.
  assert.deepEqual([...fs.dirs].sort(), ['/sys/fs/cgroup', '/sys/fs/cgroup/a/b']);
});

test('removeCreated tries every directory and names all it left', async () => {
  const fs = memoryFs({ rmdir: new Set(['/x/1', '/x/3']) });
  for (const d of ['/x/1', '/x/2', '/x/3']) fs.dirs.add(d);
  await assert.rejects(removeCreated(fs, ['/x/1', '/x/2', '/x/3']), (err: unknown) => {
    assert.ok(err instanceof AggregateError);
    assert.equal(err.errors.length, 2);
    return true;
  });
  assert.ok(!fs.dirs.has('/x/2'));
});
