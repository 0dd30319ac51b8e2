/**
 * An exec'd process gets exactly its container's confinement, and no
 * other (the attack: an exec that escapes the sandbox its container is
 * in, runc's CVE-2016-9962 and CVE-2019-5736 class): from the host, its
 * /proc/PID/status (ids, every capability set, NoNewPrivs, Seccomp and the
 * number of filters), /proc/PID/cgroup, every namespace link, its root,
 * rlimits, oom_score_adj, LSM label and mountinfo equal those of the
 * container's first process; for a container shaped as the engine makes
 * one (docker's capabilities and seccomp profile, no_new_privs, a cgroup
 * namespace) and one in a user namespace. And a container whose first
 * process dies between the engine's check and the joining of its
 * namespaces refuses the exec by name, leaving no monitor, run directory
 * or descriptor behind. Root only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { attachSocket } from '../../../src/engine/monitor/attach.ts';
import type { ExecContainer } from '../../../src/engine/exec/sessions.ts';
import type { Spec } from '../../../src/oci/runtime-spec.ts';
import { runtimeContext } from '../../../src/runtime/lifecycle/context.ts';
import { hostNativeArch } from '../../../src/runtime/seccomp/arch.ts';
import { defaultSeccompProfile, DOCKER_CAPS } from '../../../src/runtime/seccomp/default-profile.ts';
import { executorPath } from '../../../src/runtime/host/spawn.ts';
import { runningContainer, type RunningContainer } from '../../helpers/exec-container.ts';
import { monitorPids } from '../../helpers/monitors.ts';
import { tempDir, waitFor } from '../../helpers/runtime.ts';

const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts'];
const STATUS_FIELDS = /^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):/;

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** What confines a process, as the host sees it. */
function confinement(pid: number): Record<string, unknown> {
  const root = statSync(`/proc/${pid}/root/`);
  return {
    status: readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => STATUS_FIELDS.test(l)),
    cgroup: readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
    namespaces: Object.fromEntries(NAMESPACES.map((n) => [n, readlinkSync(`/proc/${pid}/ns/${n}`)])),
    root: `${root.dev}:${root.ino}`,
    limits: readFileSync(`/proc/${pid}/limits`, 'utf8'),
    oomScoreAdj: readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'),
    lsm: readOr(`/proc/${pid}/attr/current`, 'none'),
    mountinfo: readFileSync(`/proc/${pid}/mountinfo`, 'utf8'),
  };
}

function statusField(pid: number, field: string): string {
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}

/** A detached `sleep` exec'd into the container, running its program (so past every step of the executor). */
async function sleeper(r: RunningContainer, config: Record<string, unknown> = {}): Promise<number> {
  const id = r.execs.createExec(r.ctx, { Cmd: ['sleep', '1000'], ...config });
  const started = await r.execs.startExec(id, { detach: true });
  await waitFor('the exec to run sleep', () => (readOr(`/proc/${started.pid}/cmdline`, '') === 'sleep\x001000\x00' ? true : undefined));
  return started.pid;
}

/** Docker's shape of a container: its capabilities and seccomp profile, no_new_privs, rlimits, oom_score_adj, a cgroup namespace. */
function dockerLike(spec: Spec): void {
  const caps = [...DOCKER_CAPS];
  spec.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
  spec.process!.noNewPrivileges = true;
  spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1000, hard: 2000 }, { type: 'RLIMIT_NPROC', soft: 500, hard: 600 }];
  spec.process!.oomScoreAdj = 123;
  spec.linux!.seccomp = defaultSeccompProfile({ capabilities: caps, nativeArch: hostNativeArch() });
  if (!spec.linux!.namespaces!.some((n) => n.type === 'cgroup')) spec.linux!.namespaces!.push({ type: 'cgroup' });
}

test('an exec\'d process is confined exactly as its container\'s first process: ids, capabilities, no_new_privs, seccomp, cgroup, namespaces, root, rlimits, mounts', async (t) => {
  const r = await runningContainer(t, 'confined', { bundle: { args: ['sleep', '1000'], edit: dockerLike } });
  // The container is confined at all, so an equality below means something.
  assert.equal(statusField(r.initPid, 'NoNewPrivs'), '1');
  assert.equal(statusField(r.initPid, 'Seccomp'), '2');
  assert.notEqual(statusField(r.initPid, 'CapBnd'), statusField(process.pid, 'CapBnd'));
  assert.notEqual(readlinkSync(`/proc/${r.initPid}/ns/cgroup`), readlinkSync('/proc/self/ns/cgroup'));
  assert.notEqual(readFileSync(`/proc/${r.initPid}/cgroup`, 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
  const pid = await sleeper(r);
  assert.deepEqual(confinement(pid), confinement(r.initPid));
  // Inside, the exec'd process sees itself as the container's pid 1 sees itself.
  const id = r.execs.createExec(r.ctx, { Cmd: ['sh', '-c', 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup'], AttachStdout: true });
  const started = await r.execs.startExec(id);
  let out = '';
  const attached = attachSocket(started.socket!, (_stream, b) => (out += b.toString()));
  assert.equal(await started.exited, 0);
  await attached.closed;
  const [self, init] = out.split('---\n');
  assert.equal(self, init);
  for (const line of (self ?? '').trimEnd().split('\n')) assert.match(line, /:\/$/, 'its cgroup namespace is rooted at the container\'s cgroup');
});

test('in a user namespace, an exec\'d process is confined exactly as the first process (mapped ids, user namespace, capabilities)', async (t) => {
  const r = await runningContainer(t, 'userns', {
    bundle: {
      args: ['sleep', '1000'],
      edit: (spec) => {
        dockerLike(spec);
        spec.root!.readonly = false;
        spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
        // berth-runtime's create cannot set it in a user namespace yet (the non-dumpable process's /proc/self files are the host root's).
        delete spec.process!.oomScoreAdj;
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      },
    },
    prepare: (bundle) => {
      // The mapped root must reach and own its root filesystem.
      chmodSync(bundle.dir, 0o755);
      execFileSync('chown', ['-R', '200000:200000', bundle.rootfs]);
    },
  });
  assert.notEqual(readlinkSync(`/proc/${r.initPid}/ns/user`), readlinkSync('/proc/self/ns/user'));
  assert.equal(statusField(r.initPid, 'Uid').split(/\s+/)[0], '201000');
  const pid = await sleeper(r);
  assert.deepEqual(confinement(pid), confinement(r.initPid));
  // -u within the mapping: the same namespaces and filters, the ids asked for (mapped).
  const other = await sleeper(r, { User: '0:0' });
  assert.equal(statusField(other, 'Uid').split(/\s+/)[0], '200000');
  const a = confinement(other);
  const b = confinement(r.initPid);
  assert.deepEqual([a['namespaces'], a['cgroup'], a['root'], a['mountinfo'], a['limits']], [b['namespaces'], b['cgroup'], b['root'], b['mountinfo'], b['limits']]);
  assert.equal(statusField(other, 'Seccomp'), '2');
  assert.equal(statusField(other, 'NoNewPrivs'), '1');
});

/** The exec monitors under this run root. */
function monitorsOf(runRoot: string): number[] {
  return monitorPids().filter((p) => readOr(`/proc/${p}/cmdline`, '').includes(`${runRoot}/exec/`));
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

async function assertNothingLeft(r: RunningContainer, fdsBefore: number): Promise<void> {
  const execDir = join(r.runRoot, 'exec');
  assert.deepEqual(existsSync(execDir) ? readdirSync(execDir) : [], [], 'no exec run directory is left');
  await waitFor('the exec\'s monitor to exit', () => (monitorsOf(r.runRoot).length === 0 ? true : undefined));
  await waitFor('this process\'s descriptors to be back', () => (fdCount() <= fdsBefore ? true : undefined));
}

test('a container whose first process died between the engine\'s check and the runtime\'s refuses the exec by name, and leaves nothing', async (t) => {
  const r = await runningContainer(t, 'dies-early');
  const ctx = runtimeContext(r.ctx.runtimeRoot);
  const dying: ExecContainer = {
    ...r.ctx,
    runtimeContext: async () => {
      process.kill(r.initPid, 'SIGKILL');
      await waitFor('the first process to be gone', () => (existsSync(`/proc/${r.initPid}/ns/mnt`) ? undefined : true));
      return ctx;
    },
  };
  const fds = fdCount();
  const id = r.execs.createExec(dying, { Cmd: ['true'], AttachStdout: true });
  await assert.rejects(r.execs.startExec(id), (err: Error) => {
    assert.ok(isBerthError(err, 'exec_container_not_running'), err.message);
    assert.match(err.message, /container "dies-early": cannot exec: it is not running/);
    return true;
  });
  await assertNothingLeft(r, fds);
});

test('a container whose first process dies after the runtime\'s check, before the executor joins its namespaces, refuses the exec by name, and leaves nothing', async (t) => {
  // The executor, as the monitor execs it, first kills the container's first process and waits until its namespaces are gone.
  const dir = tempDir(t, 'berth-exec-killer-');
  const killer = join(dir, 'executor');
  const r = await runningContainer(t, 'dies-late', { sessions: { executor: killer } });
  writeFileSync(killer, `#!/bin/sh\nkill -9 ${r.initPid}\nwhile [ -e /proc/${r.initPid}/ns/mnt ]; do :; done\nexec ${executorPath()} "$@"\n`);
  chmodSync(killer, 0o755);
  const fds = fdCount();
  const id = r.execs.createExec(r.ctx, { Cmd: ['true'], AttachStdout: true, Tty: true });
  await assert.rejects(r.execs.startExec(id), (err: Error) => {
    assert.ok(isBerthError(err, 'exec_container_not_running'), err.message);
    assert.match(err.message, /container "dies-late": cannot exec: it is not running/);
    return true;
  });
  assert.equal(r.execs.inspectExec(id).Running, false);
  await assertNothingLeft(r, fds);
});
