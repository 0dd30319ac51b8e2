/**
 * Root only: the cgroup v2 device filter for real. This host's cgroup2
 * mount has no controllers, but BPF_CGROUP_DEVICE programs attach to any
 * cgroup2 directory, so the executor's bpf_device operation and the
 * compiled program are checked against the kernel: a shell placed in the
 * cgroup gets EPERM writing /dev/null, then succeeds once the rules allow it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { cgroupFromPaths, compileDeviceFilter, DEVICE_PROGRAM_LICENSE, encodeBpf, rulesFromSpec } from '../../../src/runtime/cgroups/index.ts';
import type { LinuxDeviceCgroup } from '../../../src/oci/runtime-spec.ts';
import { Plan } from '../../../src/runtime/plan/encode.ts';
import { runExecutor } from '../../../src/runtime/executor/executor.ts';
import { standaloneHost } from '../../../src/runtime/host/host.ts';
import { emptyCgroup, isRoot, killGroup, uniqueName, waitingShell } from './helpers.ts';

function v2Dir(): string | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l));
  return line?.split(' ')[4];
}

const mount = v2Dir();
const skip = !isRoot ? 'needs root' : mount === undefined ? 'no cgroup2 mount' : !existsSync('build/berth-exec') ? 'build/berth-exec not built' : false;

/** Runs the executor's bpf_device step on the host; rejects with its failure. */
async function attach(dir: string, program: Uint8Array, license = DEVICE_PROGRAM_LICENSE): Promise<void> {
  const plan = new Plan().add('bpf_device', { cgroup: dir, program, license }, `attach the device filter to ${dir}`);
  const run = await runExecutor(standaloneHost(), { plan, stdio: ['ignore', 'ignore', 'pipe'] });
  run.pid.catch(() => undefined);
  await run.ready;
  await run.exited;
}

const program = (devices: LinuxDeviceCgroup[]): Uint8Array => encodeBpf(compileDeviceFilter(rulesFromSpec(devices)));

/** A shell in the cgroup runs `script`; its exit and output. */
async function runIn(dir: string, script: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const w = waitingShell(script);
  try {
    writeFileSync(`${dir}/cgroup.procs`, String(w.pid));
    w.go();
    return await w.done;
  } finally {
    await killGroup(w);
  }
}

function tempCgroup(t: { after: (fn: () => Promise<void>) => void }): string {
  const dir = `${mount}/${uniqueName('bpf')}`;
  mkdirSync(dir);
  t.after(async () => {
    await emptyCgroup(dir);
    rmdirSync(dir); // detaches the programs with it
  });
  return dir;
}

describe('eBPF device filter (root, cgroup2)', { skip }, () => {
  test('a program denying writes to /dev/null makes them fail with EPERM; replacing it allows them again', async (t) => {
    const dir = tempCgroup(t);
    // Allow-all with one deny: only writes to c 1:3.
    await attach(dir, program([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]));
    const denied = await runIn(dir, 'echo x > /dev/null && echo wrote; cat /dev/null && echo read; (exec 3<>/dev/null) && echo rdwr');
    assert.match(denied.stderr, /\/dev\/null: (Operation not permitted|Permission denied)/);
    assert.doesNotMatch(denied.stdout, /wrote/);
    assert.match(denied.stdout, /read/, 'reading /dev/null stays allowed');
    assert.doesNotMatch(denied.stdout, /rdwr/, 'open(O_RDWR) includes the denied write');
    // The second attach replaces the first (were both attached, the deny would still apply).
    await attach(dir, program([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]));
    const allowed = await runIn(dir, 'echo x > /dev/null && echo wrote; cat /dev/zero | head -c 1 > /dev/null; echo "zero=$?"');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /wrote/);
    assert.match(allowed.stderr, /\/dev\/zero: (Operation not permitted|Permission denied)/, 'only c 1:3 is allowed now');
  });

  test('the library on cgroup v2 compiles linux.resources.devices and the attacher loads it', async (t) => {
    const dir = tempCgroup(t);
    const cg = cgroupFromPaths({ mode: 'v2', dirs: { unified: dir } }, { attachDevices: attach });
    await cg.update({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }] });
    const r = await runIn(dir, 'echo x > /dev/null && echo null-ok; head -c 1 /dev/zero > /dev/null && echo zero-ok; head -c 1 /dev/urandom > /dev/null && echo urandom-ok');
    assert.match(r.stdout, /null-ok/);
    assert.match(r.stdout, /zero-ok/);
    assert.doesNotMatch(r.stdout, /urandom-ok/);
    assert.match(r.stderr, /urandom.*(Operation not permitted|Permission denied)/);
  });

  test('a program the verifier refuses fails with the verifier\'s log in the error', async (t) => {
    const dir = tempCgroup(t);
    // exit without setting r0.
    const bad = encodeBpf([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
    await assert.rejects(attach(dir, bad), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /bpf_device.*BPF_PROG_LOAD.*verifier: .*R0 !read_ok/s);
      return true;
    });
    await assert.rejects(attach(dir, new Uint8Array(5)), /is not a list of BPF instructions/);
    await assert.rejects(attach(`${dir}/missing`, program([])), /open cgroup/);
  });
});
