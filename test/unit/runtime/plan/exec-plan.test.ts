/**
 * compileExecPlan: a process for a running container becomes setns into
 * each of its first process's namespaces (user first, mount last), a fork,
 * the cgroup stop, the terminal, and the same process set-up as create.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Process } from '../../../../src/oci/runtime-spec.ts';
import { CLONE } from '../../../../src/runtime/linux/constants.ts';
import { SYNC_CREATED } from '../../../../src/runtime/plan/create-plan.ts';
import { compileExecPlan, type ExecPlanInput } from '../../../../src/runtime/plan/exec-plan.ts';
import { withContainerDefaults } from '../../../../src/runtime/lifecycle/exec.ts';
import { assertOrder, opNames, stepsOf } from './helpers.ts';

function proc(edit?: (p: Process) => void): Process {
  const p: Process = { args: ['sh', '-c', 'id'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } };
  edit?.(p);
  return p;
}

function input(p: Process, overrides: Partial<ExecPlanInput> = {}): ExecPlanInput {
  return {
    process: p,
    initPid: 4242,
    namespaceTypes: ['mount', 'network', 'pid', 'uts', 'ipc', 'cgroup', 'user'],
    consoleSocket: undefined,
    preserveFds: 0,
    wait: true,
    consoleProxy: false,
    seccomp: undefined,
    ...overrides,
  };
}

describe('compileExecPlan', () => {
  test('joins the first process\'s namespaces in order: user first, mount last', () => {
    const plan = compileExecPlan(input(proc()));
    assert.deepEqual(
      stepsOf(plan, 'setns').map((s) => [s.args.path, s.args.nstype]),
      [
        ['/proc/4242/ns/user', CLONE.NEWUSER],
        ['/proc/4242/ns/ipc', CLONE.NEWIPC],
        ['/proc/4242/ns/uts', CLONE.NEWUTS],
        ['/proc/4242/ns/net', CLONE.NEWNET],
        ['/proc/4242/ns/pid', CLONE.NEWPID],
        ['/proc/4242/ns/cgroup', CLONE.NEWCGROUP],
        ['/proc/4242/ns/mnt', CLONE.NEWNS],
      ],
    );
  });

  test('only the namespaces the container has; unknown types are skipped', () => {
    const plan = compileExecPlan(input(proc(), { namespaceTypes: ['mount', 'time', 'pid'] }));
    assert.deepEqual(stepsOf(plan, 'setns').map((s) => s.args.path), ['/proc/4242/ns/pid', '/proc/4242/ns/mnt']);
  });

  test('a container without a mount namespace: the process is chrooted into its first process\'s root', () => {
    const plan = compileExecPlan(input(proc(), { namespaceTypes: ['pid'] }));
    const names = opNames(plan);
    assert.deepEqual(stepsOf(plan, 'chroot')[0]?.args, { path: '/proc/4242/root' });
    assertOrder(plan, ['setns', names.indexOf('setns')], ['chroot', names.indexOf('chroot')], ['fork', names.indexOf('fork')], ['chdir', names.indexOf('chdir')]);
    assert.equal(opNames(compileExecPlan(input(proc()))).includes('chroot'), false);
  });

  test('the order: fds, namespaces, fork, cgroup, process set-up, ready, exec; never a wait for start', () => {
    const plan = compileExecPlan(input(proc((p) => (p.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 5, hard: 5 }]))));
    const names = opNames(plan);
    assert.equal(names[0], 'close_fds');
    assertOrder(
      plan,
      ['last setns', names.lastIndexOf('setns')],
      ['fork', names.indexOf('fork')],
      ['cgroup', names.indexOf('sync')],
      ['rlimit', names.indexOf('setrlimit')],
      ['chdir', names.indexOf('chdir')],
      ['ids', names.indexOf('set_user')],
      ['program', names.indexOf('resolve_exec')],
      ['signals', names.indexOf('reset_signals')],
      ['ready', names.indexOf('ready')],
      ['exec', names.indexOf('exec')],
    );
    assert.deepEqual(stepsOf(plan, 'sync').map((s) => s.args.tag), [SYNC_CREATED]);
    assert.equal(names.includes('wait_start'), false);
    assert.equal(names.includes('pivot_root'), false);
    assert.equal(names.includes('setup_console'), false);
    assert.deepEqual(stepsOf(plan, 'fork')[0]?.args, { wait: 1, console_proxy: 0 });
    assert.deepEqual(stepsOf(plan, 'exec')[0]?.args, { argv: ['sh', '-c', 'id'], envv: ['PATH=/bin'] });
  });

  test('a terminal with a console socket: connected before the namespaces, the pty after the fork', () => {
    const plan = compileExecPlan(
      input(
        proc((p) => {
          p.terminal = true;
          p.consoleSize = { height: 24, width: 80 };
          p.user = { uid: 5, gid: 6 };
        }),
        { consoleSocket: '/run/c.sock', wait: false },
      ),
    );
    const names = opNames(plan);
    assertOrder(
      plan,
      ['connect', names.indexOf('console_connect')],
      ['setns', names.indexOf('setns')],
      ['fork', names.indexOf('fork')],
      ['session', names.indexOf('setsid')],
      ['pty', names.indexOf('setup_console')],
      ['ids', names.indexOf('set_user')],
    );
    assert.deepEqual(stepsOf(plan, 'setup_console')[0]?.args, { uid: 5, gid: -1, rows: 24, cols: 80, console_path: '' });
    assert.deepEqual(stepsOf(plan, 'fork')[0]?.args, { wait: 0, console_proxy: 0 });
  });

  test('a proxied terminal: no socket, the waiting executor gets the master', () => {
    const plan = compileExecPlan(input(proc((p) => (p.terminal = true)), { consoleProxy: true }));
    assert.equal(stepsOf(plan, 'console_connect').length, 0);
    assert.deepEqual(stepsOf(plan, 'fork')[0]?.args, { wait: 1, console_proxy: 1 });
    assert.deepEqual(stepsOf(plan, 'setup_console')[0]?.args, { uid: 0, gid: -1, rows: 0, cols: 0, console_path: '' });
  });

  test('user, groups, capabilities, no_new_privs and preserved fds', () => {
    const plan = compileExecPlan(
      input(
        proc((p) => {
          p.user = { uid: 1000, gid: 1000, additionalGids: [10], umask: 0o077 };
          p.capabilities = { bounding: ['CAP_NET_RAW'], effective: ['CAP_NET_RAW'], permitted: ['CAP_NET_RAW'], inheritable: ['CAP_NET_RAW'], ambient: ['CAP_NET_RAW'] };
          p.noNewPrivileges = true;
        }),
        { preserveFds: 3 },
      ),
    );
    assert.deepEqual(stepsOf(plan, 'close_fds').map((s) => s.args.first), [6, 6]);
    assert.deepEqual(stepsOf(plan, 'set_user')[0]?.args, { uid: 1000, gid: 1000, groups: [10] });
    assert.deepEqual(stepsOf(plan, 'umask')[0]?.args, { mask: 0o077 });
    assert.deepEqual(stepsOf(plan, 'caps')[0]?.args, { bounding: 1n << 13n, effective: 1n << 13n, permitted: 1n << 13n, inheritable: 1n << 13n, ambient: 1n << 13n });
    assertOrder(plan, ['caps', opNames(plan).indexOf('caps')], ['no_new_privs', opNames(plan).indexOf('no_new_privs')]);
  });

  test('oom_score_adj is written once placed in the cgroup, before the process set-up; none without one', () => {
    const plan = compileExecPlan(input(proc((p) => (p.oomScoreAdj = 123))));
    const names = opNames(plan);
    assert.deepEqual(stepsOf(plan, 'write_file').map((s) => s.args), [{ path: '/proc/self/oom_score_adj', data: '123', resolve: 0 }]);
    assertOrder(plan, ['cgroup', names.indexOf('sync')], ['oom', names.indexOf('write_file')], ['ids', names.indexOf('set_user')]);
    assert.equal(opNames(compileExecPlan(input(proc()))).includes('write_file'), false);
  });

  test('a process given without them takes the container\'s capabilities, no_new_privs, rlimits and oom_score_adj; what it gives stays', () => {
    const container = proc((p) => {
      p.capabilities = { bounding: ['CAP_KILL'] };
      p.noNewPrivileges = true;
      p.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 5, hard: 5 }];
      p.oomScoreAdj = 300;
    });
    const got = withContainerDefaults(proc(), container);
    assert.deepEqual([got.capabilities, got.noNewPrivileges, got.rlimits, got.oomScoreAdj], [{ bounding: ['CAP_KILL'] }, true, [{ type: 'RLIMIT_NOFILE', soft: 5, hard: 5 }], 300]);
    assert.equal(withContainerDefaults(proc((p) => (p.oomScoreAdj = -5)), container).oomScoreAdj, -5);
  });

  test('the container\'s seccomp filter goes on last when no_new_privs is set', () => {
    const seccomp = { program: new Uint8Array(8), flags: 1, notify: false };
    const plan = compileExecPlan(input(proc((p) => (p.noNewPrivileges = true)), { seccomp }));
    const names = opNames(plan);
    assertOrder(plan, ['no_new_privs', names.indexOf('no_new_privs')], ['seccomp', names.indexOf('seccomp')], ['close fds', names.lastIndexOf('close_fds')]);
    assert.deepEqual(stepsOf(plan, 'seccomp')[0]?.args, { program: seccomp.program, flags: 1, listener_path: '', listener_state: '' });
  });
});
