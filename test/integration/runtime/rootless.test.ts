/**
 * Rootless containers: berth-runtime run by an unprivileged user of this
 * machine (nobody), with a user namespace mapping that user to root: a
 * single mapping without subordinate ids, newuidmap/newgidmap with them.
 * Cgroups it cannot write are skipped, and it says so.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { berthOnly, byRuntime, makeRootfs, onCleanup, REPO, type Result, runCommand, RUNTIME_BIN, tempDir, uniqueId } from '../../helpers/runtime.ts';

const NOBODY = 65534;

/** Runs a command as nobody (setpriv from util-linux). */
function asNobody(cmd: string, args: readonly string[], cwd: string): Promise<Result> {
  return runCommand('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', cmd, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd },
  });
}

function chownTree(dir: string): void {
  execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
}

/** A bundle nobody owns, with the config `berth-runtime spec --rootless` writes as nobody. */
async function rootlessBundle(t: TestContext, args: string[], edit?: (c: Spec) => void): Promise<{ dir: string; state: string; shared: string }> {
  const dir = tempDir(t, 'berth-rootless-');
  makeRootfs(dir);
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chownTree(dir);
  const spec = await asNobody(RUNTIME_BIN, ['spec', '--rootless', '--bundle', dir], dir);
  assert.equal(spec.code, 0, spec.stderr);
  const file = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  config.process!.terminal = false;
  config.process!.args = args;
  config.mounts!.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind'] });
  edit?.(config);
  writeFileSync(file, JSON.stringify(config));
  const state = join(dir, 'state');
  mkdirSync(state);
  chownTree(state);
  return { dir, state, shared };
}

describe('rootless containers (run as nobody)', () => {
  test('a single mapping: nobody becomes root inside; cgroups are skipped with a warning', async (t) => {
    const b = await rootlessBundle(t, ['sh', '-c', 'id -u; cat /proc/self/uid_map; touch /shared/made-inside']);
    const config = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')) as { linux: { uidMappings: unknown[]; namespaces: { type: string }[] } };
    assert.deepEqual(config.linux.uidMappings, [{ containerID: 0, hostID: NOBODY, size: 1 }]);
    assert.ok(!config.linux.namespaces.some((n) => n.type === 'network'), 'no network namespace of its own');
    const id = uniqueId('rl');
    onCleanup(t, () => asNobody(RUNTIME_BIN, ['--root', b.state, 'delete', '--force', id], b.dir));
    const r = await asNobody(RUNTIME_BIN, ['--root', b.state, 'run', '--bundle', b.dir, id], b.dir);
    assert.equal(r.code, 0, r.stderr);
    const [uid, map] = r.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.deepEqual(map?.trim().split(/\s+/), ['0', String(NOBODY), '1']);
    // runc says nothing of the cgroups it leaves out.
    assert.match(r.stderr, byRuntime(/rootless: cgroups .*memory.* are not writable, so their limits are not enforced/, /^$/));
    // What root made inside belongs to nobody outside.
    assert.equal(statSync(join(b.shared, 'made-inside')).uid, NOBODY);
  });

  test('subordinate ids: newuidmap/newgidmap map a range and container users land in it', { skip: berthOnly('berth-runtime spec --rootless maps the user\'s subordinate ids; runc\'s maps the user alone') }, async (t) => {
    // Give nobody a subordinate range for this test only.
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      const before = existsSync(f) ? readFileSync(f, 'utf8') : undefined;
      writeFileSync(f, `${before ?? ''}${before && !before.endsWith('\n') ? '\n' : ''}nobody:300000:65536\n`);
      onCleanup(t, () => (before === undefined ? execFileSync('rm', ['-f', f]) : writeFileSync(f, before)));
    }
    const b = await rootlessBundle(t, ['sh', '-c', 'cat /proc/self/uid_map; id -u; touch /shared/by-1000'], (c) => {
      c.process!.user = { uid: 1000, gid: 1000 };
    });
    const config = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')) as { linux: { uidMappings: unknown[] } };
    assert.deepEqual(config.linux.uidMappings, [
      { containerID: 0, hostID: NOBODY, size: 1 },
      { containerID: 1, hostID: 300000, size: 65536 },
    ]);
    const id = uniqueId('rl');
    onCleanup(t, () => asNobody(RUNTIME_BIN, ['--root', b.state, 'delete', '--force', id], b.dir));
    // The bind-mounted directory must be writable by container uid 1000 (host 300999).
    chownSync(b.shared, 300999, 300999);
    const r = await asNobody(RUNTIME_BIN, ['--root', b.state, 'run', '--bundle', b.dir, id], b.dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, [`0 ${NOBODY} 1`, '1 300000 65536', '1000']);
    assert.equal(statSync(join(b.shared, 'by-1000')).uid, 300999);
  });

  test('the executor and node are reachable for an unprivileged user', () => {
    for (const p of [join(REPO, 'build', 'berth-exec'), join(REPO, 'build', 'node')]) {
      assert.ok((statSync(p).mode & 0o005) === 0o005, `${p} must be readable and executable by others`);
    }
  });
});
