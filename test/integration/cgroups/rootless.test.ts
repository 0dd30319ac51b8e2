/**
 * Root only (to become nobody): with rootless set, hierarchies the user
 * cannot write are skipped with a warning; delegated ones are used; without
 * rootless the same request fails naming the directory.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hostMode, isRoot, uniqueName } from './helpers.ts';

const hasSetpriv = existsSync('/usr/bin/setpriv');
const skip = !isRoot ? 'needs root' : hostMode() !== 'v1-or-hybrid' ? 'needs a cgroup v1 or hybrid host' : !hasSetpriv ? 'needs setpriv' : false;
const NOBODY = 65534;
const INDEX = resolve(import.meta.dirname, '../../../src/runtime/cgroups/index.ts');

/** Runs create() (and destroy()) as nobody; its outcome as JSON. */
function createAsNobody(t: { after: (fn: () => void) => void }, path: string, rootless: boolean, resources: object = { pids: { limit: 10 } }): { error?: string; kind?: string; warnings?: string[]; dirs?: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rootless-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const script = join(dir, 'run.ts');
  writeFileSync(
    script,
    `import { openCgroup } from ${JSON.stringify(INDEX)};
const cg = openCgroup({ cgroupsPath: ${JSON.stringify(path)}, id: 'r', rootless: ${rootless}, resources: ${JSON.stringify(resources)} });
try {
  await cg.create();
  const dirs = { ...cg.paths.dirs };
  await cg.destroy();
  console.log(JSON.stringify({ warnings: cg.warnings, dirs }));
} catch (err) {
  console.log(JSON.stringify({ error: err.message, kind: err.kind }));
}
`,
  );
  const out = execFileSync('/usr/bin/setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, script], { encoding: 'utf8' });
  return JSON.parse(out) as ReturnType<typeof createAsNobody>;
}

describe('rootless cgroups (root, run as nobody)', { skip }, () => {
  test('without rootless, an unwritable hierarchy fails naming the directory', (t) => {
    const name = uniqueName('nobody');
    const r = createAsNobody(t, `/${name}`, false);
    assert.equal(r.kind, 'permission_denied');
    assert.match(r.error ?? '', new RegExp(`cgroup: create /sys/fs/cgroup/\\S+/${name}: EACCES`));
  });

  test('with rootless, unwritable hierarchies are skipped with warnings and delegated ones are used', (t) => {
    const parent = uniqueName('deleg');
    const delegated = `/sys/fs/cgroup/pids/${parent}`;
    mkdirSync(delegated);
    t.after(() => rmdirSync(delegated));
    chownSync(delegated, NOBODY, NOBODY);
    for (const f of ['cgroup.procs', 'pids.max']) chownSync(`${delegated}/${f}`, NOBODY, NOBODY);
    const r = createAsNobody(t, `/${parent}/c`, true);
    assert.equal(r.error, undefined, r.error);
    assert.deepEqual(r.dirs, { pids: `${delegated}/c` });
    assert.ok((r.warnings ?? []).some((w) => w.includes(`/sys/fs/cgroup/memory/${parent}/c cannot be created (rootless)`)), JSON.stringify(r.warnings));
    assert.equal(existsSync(`${delegated}/c`), false, 'destroyed again');
    // A limit for a hierarchy it cannot write is an error naming it, not a silent skip.
    const limited = createAsNobody(t, `/${parent}/c`, true, { memory: { limit: 1048576 } });
    assert.equal(limited.kind, 'permission_denied');
    assert.match(limited.error ?? '', /memory needs the memory hierarchy, which this user cannot write \(rootless\)/);
    assert.equal(existsSync(`${delegated}/c`), false, 'undone after the failure');
  });
});
