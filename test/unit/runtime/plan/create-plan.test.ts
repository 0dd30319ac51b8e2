/**
 * compileCreatePlan: a spec in, the executor's ordered steps out. Each test
 * compiles a spec and checks the operations, their arguments and their
 * order, which is where a container's safety lives (what runs before the
 * fork, before pivot_root, before the capabilities drop).
 */
import assert from 'node:assert/strict';
import { join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { isBerthError } from '../../../../src/errors.ts';
import { CLONE, MS, RESOLVE, RLIMIT, S_IF, makedev } from '../../../../src/runtime/linux/constants.ts';
import { compileCreatePlan, needsDevSetup, parentMayBeShared, SYNC_CREATED, SYNC_HOOKS, SYNC_USERNS } from '../../../../src/runtime/plan/create-plan.ts';
import { OpFlag } from '../../../../src/runtime/plan/opcodes.ts';
import { assertOrder, bindSources, createInput, indexWhere, opNames, spec, stepsOf, stepWhere } from './helpers.ts';

const NEW_NAMESPACES = CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS;

function throwsCode(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBerthError(err, code), `want ${code}, got ${String(err)}`);
    assert.match((err as Error).message, message);
    return true;
  });
}

describe('compileCreatePlan', () => {
  test('the default spec: namespaces before the fork, the root before pivot_root, the process last', () => {
    const plan = compileCreatePlan(createInput(spec()));
    const names = opNames(plan);
    assert.equal(names[0], 'umask');
    assert.deepEqual(stepsOf(plan, 'umask')[0]?.args, { mask: 0 });
    assert.deepEqual(stepsOf(plan, 'mkfifo')[0]?.args, { path: '/run/berth-runtime/c1/exec.fifo', mode: 0o622 });
    const unshare = stepsOf(plan, 'unshare');
    // The cgroup namespace comes after the process is in its cgroup.
    assert.deepEqual(unshare.map((s) => s.args.flags), [NEW_NAMESPACES, CLONE.NEWCGROUP]);
    assert.deepEqual(stepsOf(plan, 'sync').map((s) => s.args.tag), [SYNC_CREATED]);
    assert.deepEqual(stepsOf(plan, 'fork')[0]?.args, { wait: 0, console_proxy: 0 });
    assert.deepEqual(stepsOf(plan, 'sethostname')[0]?.args, { name: 'berth' });
    assert.deepEqual(stepsOf(plan, 'open_root')[0]?.args, { path: '/bundles/b1/rootfs' });
    assert.deepEqual(stepsOf(plan, 'exec')[0]?.args, { argv: ['true'], envv: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'] });
    assertOrder(
      plan,
      ['open the state directory', names.indexOf('open_state_dir')],
      ['create namespaces', indexWhere(plan, 'unshare', (s) => s.args['flags'] === NEW_NAMESPACES)],
      ['fork', names.indexOf('fork')],
      ['wait for the cgroup', names.indexOf('sync')],
      ['cgroup namespace', indexWhere(plan, 'unshare', (s) => s.args['flags'] === CLONE.NEWCGROUP)],
      ['setsid', names.indexOf('setsid')],
      ['hostname', names.indexOf('sethostname')],
      ['propagation of /', names.indexOf('propagate_abs')],
      ['bind the root', names.indexOf('open_root')],
      ['first mount', names.indexOf('mount')],
      ['devices', names.indexOf('mknod')],
      ['links', names.indexOf('symlink')],
      ['pivot_root', names.indexOf('pivot_root')],
      ['read-only root', names.indexOf('remount_root_ro')],
      ['read-only paths (in the new root, as runc)', names.lastIndexOf('remount_bind')],
      ['masks (after them, as runc)', names.indexOf('mask_path')],
      ['rlimits', names.indexOf('setrlimit')],
      ['chdir', names.indexOf('chdir')],
      ['process umask', names.lastIndexOf('umask')],
      ['ids', names.indexOf('set_user')],
      ['capabilities', names.indexOf('caps')],
      ['no_new_privs', names.indexOf('no_new_privs')],
      ['close fds', names.lastIndexOf('close_fds')],
      ['find the program', names.indexOf('resolve_exec')],
      ['ready', names.indexOf('ready')],
      ['wait for start', names.indexOf('wait_start')],
      ['reset signals', names.indexOf('reset_signals')],
      ['exec', names.indexOf('exec')],
    );
    assert.equal(names.at(-1), 'exec');
    assert.equal(names.includes('move_root'), false);
  });

  test('mounts: in spec order, with flags and data; a cgroup mount becomes the cgroup library\'s mounts', () => {
    const plan = compileCreatePlan(createInput(spec((s) => delete s.linux!.readonlyPaths)));
    const mounts = stepsOf(plan, 'mount').map((s) => [s.args.target, s.args.fstype, s.args.flags, s.args.data]);
    assert.deepEqual(mounts, [
      ['/proc', 'proc', 0, ''],
      ['/dev', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k'],
      ['/dev/pts', 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5'],
      ['/dev/shm', 'tmpfs', MS.NOSUID | MS.NOEXEC | MS.NODEV, 'mode=1777,size=65536k'],
      ['/dev/mqueue', 'mqueue', MS.NOSUID | MS.NOEXEC | MS.NODEV, ''],
      ['/sys', 'sysfs', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY, ''],
      ['/sys/fs/cgroup', 'tmpfs', MS.NOSUID, 'mode=755'],
      ['/sys/fs/cgroup/memory', '', MS.BIND, ''],
    ]);
    // The spec's "ro" reached the cgroup library, whose read-only bind is remounted.
    assert.deepEqual(stepsOf(plan, 'remount_bind').map((s) => s.args), [{ target: '/sys/fs/cgroup/memory', flags: MS.RDONLY }]);
  });

  test('mount destinations are cleaned as runc cleans them: "//proc/" is /proc', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.mounts = s.mounts!.map((m) => (m.destination === '/proc' ? { ...m, destination: '//proc/./' } : m));
          s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
        }),
      ),
    );
    assert.equal(stepsOf(plan, 'mount')[0]?.args.target, '/proc');
  });

  test('a read-only bind: bind first, then remount with its flags', (t) => {
    const { dir } = bindSources(t);
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
        }),
      ),
    );
    const i = indexWhere(plan, 'mount', (s) => s.args['target'] === '/data');
    const mount = plan.steps[i];
    assert.deepEqual(mount?.args, { source: dir, target: '/data', fstype: '', flags: MS.BIND | MS.REC, data: '', kind: 0, source_in_root: 0 });
    assert.deepEqual(plan.steps[i + 1], {
      op: 'remount_bind',
      args: { target: '/data', flags: MS.RDONLY | MS.NOSUID | MS.NODEV },
      flags: 0,
      what: 'mounts[7]: remount "/data" with its options',
    });
  });

  test('a plain bind needs no remount; a file source makes a file mount point; relative sources are in the bundle', (t) => {
    const { dir, file } = bindSources(t);
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.mounts!.push({ destination: '/one', source: file, options: ['bind'] }, { destination: '//two/../two/', type: 'bind', source: '.' });
        }),
        { bundle: dir },
      ),
    );
    assert.deepEqual(
      stepsOf(plan, 'mount')
        .filter((s) => s.args.target === '/one' || s.args.target === '/two')
        .map((s) => [s.args.source, s.args.target, s.args.flags, s.args.kind]),
      [
        [file, '/one', MS.BIND, 1],
        [join(dir, '.'), '/two', MS.BIND, 0],
      ],
    );
    assert.deepEqual(stepsOf(plan, 'remount_bind').filter((s) => s.args.target === '/one' || s.args.target === '/two'), []);
  });

  test('a bind source that does not exist fails by mount index, before anything runs', () => {
    throwsCode(
      () => compileCreatePlan(createInput(spec((s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/no/such/source' })))),
      'mount_source',
      /^mounts\[7\]\.source: "\/no\/such\/source"/,
    );
    throwsCode(() => compileCreatePlan(createInput(spec((s) => s.mounts!.push({ destination: '/x', type: 'bind' })))), 'mount_source', /mounts\[7\]\.source: a bind mount needs a source/);
    throwsCode(() => compileCreatePlan(createInput(spec((s) => s.mounts!.push({ destination: '/x', source: 'x' })))), 'mount_type', /mounts\[7\]\.type/);
    throwsCode(
      () => compileCreatePlan(createInput(spec((s) => s.mounts!.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['rro'] })))),
      'mount_option',
      /mounts\[7\]\.options: "rro" is not supported/,
    );
  });

  test('propagation options of a mount follow the mount', () => {
    const plan = compileCreatePlan(
      createInput(spec((s) => s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'rshared', 'mode=700'] }))),
    );
    const i = indexWhere(plan, 'mount', (s) => s.args['target'] === '/t');
    assert.deepEqual(plan.steps[i]?.args, { source: 'tmpfs', target: '/t', fstype: 'tmpfs', flags: 0, data: 'size=1m,mode=700', kind: 0, source_in_root: 0 });
    assert.deepEqual(plan.steps[i + 1]?.args, { target: '/t', flags: MS.SHARED | MS.REC });
  });

  test('a user namespace: created alone and mapped before the others; devices bound from the host', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.linux!.namespaces!.push({ type: 'user' });
          s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        }),
      ),
    );
    const names = opNames(plan);
    assertOrder(
      plan,
      ['the user namespace', indexWhere(plan, 'unshare', (s) => s.args['flags'] === CLONE.NEWUSER)],
      ['wait for the mappings', indexWhere(plan, 'sync', (s) => s.args['tag'] === SYNC_USERNS)],
      ['become its root', names.indexOf('set_user')],
      ['the other namespaces', indexWhere(plan, 'unshare', (s) => s.args['flags'] === NEW_NAMESPACES)],
      ['fork', names.indexOf('fork')],
    );
    assert.deepEqual(stepsOf(plan, 'set_user')[0]?.args, { uid: 0, gid: 0, groups: [] });
    // mknod is not allowed in a user namespace.
    assert.equal(stepsOf(plan, 'mknod').length, 0);
    const devices = stepsOf(plan, 'mount').filter((s) => String(s.args.target).startsWith('/dev/') && s.args.flags === MS.BIND);
    assert.deepEqual(
      devices.map((s) => [s.args.source, s.args.target, s.args.kind]),
      // runc's order, as /proc/self/mountinfo shows them in a rootless container.
      ['null', 'random', 'full', 'tty', 'zero', 'urandom'].map((d) => [`/dev/${d}`, `/dev/${d}`, 1]),
    );
    // devpts cannot take a gid the namespace may not map.
    assert.equal(stepWhere(plan, 'mount', (s) => s.args.fstype === 'devpts').args.data, 'newinstance,ptmxmode=0666,mode=0620');
  });

  test('devices: the defaults and the spec\'s, created with mknod and their mode set; links after them', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.linux!.devices = [
            { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 1, gid: 2 },
            { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 },
            { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
            { path: '/dev/pipe', type: 'p' },
          ];
        }),
        { hostHasKcore: true },
      ),
    );
    const nodes = stepsOf(plan, 'mknod').map((s) => [posix.join(String(s.args.dir), String(s.args.name)), s.args.mode, s.args.dev, s.args.uid, s.args.gid, s.flags]);
    const chr = (m: number): number => S_IF.CHR | m;
    assert.deepEqual(nodes, [
      ['/dev/null', chr(0o600), makedev(1, 3), 0, 0, OpFlag.IGNORE_EEXIST],
      ['/dev/random', chr(0o666), makedev(1, 8), 0, 0, OpFlag.IGNORE_EEXIST],
      ['/dev/full', chr(0o666), makedev(1, 7), 0, 0, OpFlag.IGNORE_EEXIST],
      ['/dev/tty', chr(0o666), makedev(5, 0), 0, 0, OpFlag.IGNORE_EEXIST],
      ['/dev/zero', chr(0o666), makedev(1, 5), 0, 0, OpFlag.IGNORE_EEXIST],
      ['/dev/urandom', chr(0o666), makedev(1, 9), 0, 0, OpFlag.IGNORE_EEXIST],
      ['/dev/fuse', chr(0o640), makedev(10, 229), 1, 2, OpFlag.IGNORE_EEXIST],
      ['/dev/sda', S_IF.BLK | 0o666, makedev(8, 0), 0, 0, OpFlag.IGNORE_EEXIST],
      ['/dev/pipe', S_IF.FIFO | 0o666, 0, 0, 0, OpFlag.IGNORE_EEXIST],
    ]);
    const links = stepsOf(plan, 'symlink').map((s) => [posix.join(String(s.args.dir), String(s.args.name)), s.args.link_target]);
    assert.deepEqual(links, [
      ['/dev/fd', '/proc/self/fd'],
      ['/dev/stdin', '/proc/self/fd/0'],
      ['/dev/stdout', '/proc/self/fd/1'],
      ['/dev/stderr', '/proc/self/fd/2'],
      ['/dev/core', '/proc/kcore'],
      ['/dev/ptmx', 'pts/ptmx'],
    ]);
    assert.ok(indexWhere(plan, 'mount', (s) => s.args['target'] === '/dev') < indexWhere(plan, 'mknod'));
  });

  test('a bind mount on /dev brings its own devices: none are made', (t) => {
    const { dir } = bindSources(t);
    const s = spec((x) => x.mounts!.push({ destination: '/dev/', type: 'bind', source: dir, options: ['rbind'] }));
    assert.equal(needsDevSetup(s), false);
    const plan = compileCreatePlan(createInput(s));
    assert.equal(stepsOf(plan, 'mknod').length, 0);
    assert.equal(stepsOf(plan, 'symlink').length, 0);
    assert.equal(needsDevSetup(spec()), true);
  });

  test('hooks: one sync for the runtime hooks, createContainer before pivot_root, startContainer after start', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.hooks = {
            prestart: [{ path: '/bin/pre' }],
            createContainer: [
              { path: '/bin/cc1', args: ['cc1', '--flag'], env: ['A=1'], timeout: 3 },
              { path: '/bin/cc2' },
            ],
            startContainer: [{ path: '/bin/sc', args: ['sc'] }],
          };
        }),
      ),
    );
    const hooks = stepsOf(plan, 'run_hook').map((s) => s.args);
    assert.deepEqual(hooks, [
      { path: '/bin/cc1', argv: ['cc1', '--flag'], envv: ['A=1'], timeout_ms: 3000, input: 0 },
      { path: '/bin/cc2', argv: ['/bin/cc2'], envv: [], timeout_ms: 0, input: 0 },
      { path: '/bin/sc', argv: ['sc'], envv: [], timeout_ms: 0, input: 1 },
    ]);
    const names = opNames(plan);
    assertOrder(
      plan,
      ['last spec mount', indexWhere(plan, 'mount', (s) => s.args['target'] === '/sys/fs/cgroup/memory')],
      ['the runtime hooks', indexWhere(plan, 'sync', (s) => s.args['tag'] === SYNC_HOOKS)],
      ['createContainer 1', indexWhere(plan, 'run_hook', (s) => s.args['path'] === '/bin/cc1')],
      ['createContainer 2', indexWhere(plan, 'run_hook', (s) => s.args['path'] === '/bin/cc2')],
      ['pivot_root', names.indexOf('pivot_root')],
      ['masks', names.indexOf('mask_path')],
      ['wait for start', names.indexOf('wait_start')],
      ['startContainer', indexWhere(plan, 'run_hook', (s) => s.args['path'] === '/bin/sc')],
      ['exec', names.indexOf('exec')],
    );
    assert.equal(stepsOf(plan, 'sync').filter((s) => s.args.tag === SYNC_HOOKS).length, 1);
  });

  test('no hooks (or only poststart/poststop): no stop for them', () => {
    const plan = compileCreatePlan(createInput(spec((s) => (s.hooks = { poststart: [{ path: '/x' }], poststop: [{ path: '/y' }] }))));
    assert.deepEqual(stepsOf(plan, 'sync').map((s) => s.args.tag), [SYNC_CREATED]);
    assert.equal(stepsOf(plan, 'run_hook').length, 0);
  });

  test('namespaces joined by path: setns before creating the rest, the user namespace first', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.linux!.namespaces = [
            { type: 'mount' },
            { type: 'network', path: '/run/netns/n1' },
            { type: 'pid', path: '/proc/42/ns/pid' },
            { type: 'user', path: '/proc/42/ns/user' },
            { type: 'uts' },
          ];
          delete s.linux!.uidMappings;
        }),
      ),
    );
    assert.deepEqual(
      stepsOf(plan, 'setns').map((s) => [s.args.path, s.args.nstype]),
      [
        ['/proc/42/ns/user', CLONE.NEWUSER],
        ['/run/netns/n1', CLONE.NEWNET],
        ['/proc/42/ns/pid', CLONE.NEWPID],
      ],
    );
    assert.deepEqual(stepsOf(plan, 'unshare').map((s) => s.args.flags), [CLONE.NEWNS | CLONE.NEWUTS]);
    // Joined, not created: no mappings to wait for.
    assert.equal(stepsOf(plan, 'sync').some((s) => s.args.tag === SYNC_USERNS), false);
    assertOrder(plan, ['last setns', opNames(plan).lastIndexOf('setns')], ['unshare', opNames(plan).indexOf('unshare')]);
  });

  test('no mount namespace: the runtime\'s, nothing mounted or made in it, the root only a chroot', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.linux!.namespaces = [{ type: 'pid' }];
          s.mounts = [];
          delete s.hostname;
        }),
        { cgroupProcs: ['/sys/fs/cgroup/pids/c1/cgroup.procs'] },
      ),
    );
    const names = opNames(plan);
    for (const op of ['propagate_abs', 'open_root', 'mount', 'mknod', 'symlink', 'ensure_dir', 'mask_path', 'remount_bind', 'pivot_root', 'remount_root_ro']) {
      assert.equal(names.includes(op as never), false, op);
    }
    assert.deepEqual(stepsOf(plan, 'unshare').map((s) => s.args.flags), [CLONE.NEWPID]);
    assert.deepEqual(stepsOf(plan, 'chroot')[0]?.args, { path: '/bundles/b1/rootfs' });
    assertOrder(plan, ['fork', names.indexOf('fork')], ['chroot', names.indexOf('chroot')], ['chdir', names.indexOf('chdir')], ['exec', names.indexOf('exec')]);
    throwsCode(() => compileCreatePlan(createInput(spec((s) => delete s.process))), 'no_process', /^process: is required/);
  });

  test('a mount namespace joined by path is set up as a new one; TypeScript places the process in its cgroup', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => (s.linux!.namespaces = [{ type: 'pid' }, { type: 'mount', path: '/proc/1/ns/mnt' }])),
        { cgroupProcs: ['/sys/fs/cgroup/pids/c1/cgroup.procs'] },
      ),
    );
    const names = opNames(plan);
    assert.deepEqual(stepsOf(plan, 'setns')[0]?.args, { path: '/proc/1/ns/mnt', nstype: CLONE.NEWNS });
    assert.equal(names.includes('chroot'), false);
    assert.equal(stepsOf(plan, 'write_file').some((s) => String(s.args.path).endsWith('cgroup.procs')), false);
    assertOrder(
      plan,
      ['join', names.indexOf('setns')],
      ['fork', names.indexOf('fork')],
      ['placed by TypeScript', indexWhere(plan, 'sync', (s) => s.args['tag'] === SYNC_CREATED)],
      ['bind the root', names.indexOf('open_root')],
      ['pivot_root', names.indexOf('pivot_root')],
    );
  });

  test('rootfsPropagation: slave by default; otherwise the parent goes private and "/" gets it again after the pivot', () => {
    const byDefault = compileCreatePlan(createInput(spec()));
    assert.deepEqual(stepsOf(byDefault, 'propagate_abs').map((s) => s.args), [{ path: '/', flags: MS.SLAVE | MS.REC }]);
    for (const [value, flags] of [
      ['shared', MS.SHARED],
      ['slave', MS.SLAVE],
      ['unbindable', MS.UNBINDABLE],
    ] as const) {
      const plan = compileCreatePlan(createInput(spec((s) => (s.linux!.rootfsPropagation = value))));
      assert.deepEqual(
        stepsOf(plan, 'propagate_abs').map((s) => s.args),
        [
          { path: '/', flags },
          { path: '/bundles', flags: MS.PRIVATE },
          { path: '/', flags },
        ],
        value,
      );
      assertOrder(plan, ['parent private', indexWhere(plan, 'propagate_abs', (s) => s.args['path'] === '/bundles')], ['bind the root', opNames(plan).indexOf('open_root')]);
      assert.ok(opNames(plan).lastIndexOf('propagate_abs') > opNames(plan).indexOf('pivot_root'), value);
    }
    const priv = compileCreatePlan(createInput(spec((s) => (s.linux!.rootfsPropagation = 'private'))));
    assert.deepEqual(stepsOf(priv, 'propagate_abs').map((s) => s.args), [
      { path: '/', flags: MS.PRIVATE },
      { path: '/bundles', flags: MS.PRIVATE },
    ]);
  });

  test('--no-pivot moves the root instead', () => {
    const plan = compileCreatePlan(createInput(spec(), { noPivot: true }));
    assert.equal(opNames(plan).includes('pivot_root'), false);
    assertOrder(plan, ['move_root', opNames(plan).indexOf('move_root')], ['ro root', opNames(plan).indexOf('remount_root_ro')], ['read-only paths', opNames(plan).lastIndexOf('remount_bind')]);
  });

  test('masked and read-only paths, in the spec\'s order', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.linux!.maskedPaths = ['/proc/kcore', '/secret'];
          s.linux!.readonlyPaths = ['/proc/sys', '/etc'];
          s.root!.readonly = false;
        }),
      ),
    );
    assert.deepEqual(stepsOf(plan, 'mask_path').map((s) => s.args.path), ['/proc/kcore', '/secret']);
    // After the pivot, as runc: each read-only path bound onto itself, then remounted read-only (skipped where
    // missing); the masks after them.
    const readOnly = plan.steps.slice(opNames(plan).indexOf('pivot_root') + 1, opNames(plan).indexOf('mask_path'));
    assert.deepEqual(
      readOnly.map((s) => { const args = s.args as { target?: string; flags?: number }; return [s.op, args.target, args.flags, s.flags]; }),
      ['/proc/sys', '/etc'].flatMap((p) => [['mount', p, MS.BIND | MS.REC, OpFlag.IGNORE_ENOENT], ['remount_bind', p, MS.RDONLY, OpFlag.IGNORE_ENOENT]]),
    );
    assert.deepEqual(stepsOf(plan, 'mount').filter((s) => s.args.target === '/etc').map((s) => [s.args.source, s.args.source_in_root, s.args.kind]), [['/etc', 1, -1]]);
    assert.equal(stepsOf(plan, 'remount_root_ro').length, 0);
  });

  test('terminal with a console socket: connected before any namespace, the pty made after pivot_root', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.process!.terminal = true;
          s.process!.consoleSize = { height: 40, width: 120 };
          s.process!.user = { uid: 7, gid: 8 };
        }),
        { consoleSocket: '/tmp/console.sock' },
      ),
    );
    assert.deepEqual(stepsOf(plan, 'console_connect')[0]?.args, { path: '/tmp/console.sock' });
    assert.deepEqual(stepsOf(plan, 'setup_console')[0]?.args, { uid: 7, gid: -1, rows: 40, cols: 120, console_path: '/dev/console' });
    const names = opNames(plan);
    assertOrder(
      plan,
      ['connect', names.indexOf('console_connect')],
      ['namespaces', names.indexOf('unshare')],
      ['pivot_root', names.indexOf('pivot_root')],
      ['pty', names.indexOf('setup_console')],
      ['read-only paths (the /dev/console bind comes first, as runc)', indexWhere(plan, 'remount_bind', (s) => s.args['target'] === '/proc/bus')],
      ['ids', names.indexOf('set_user')],
    );
  });

  test('terminal without a socket: proxied by a waiting executor, or refused', () => {
    const proxied = compileCreatePlan(createInput(spec((s) => (s.process!.terminal = true)), { wait: true, consoleProxy: true }));
    assert.deepEqual(stepsOf(proxied, 'fork')[0]?.args, { wait: 1, console_proxy: 1 });
    assert.equal(stepsOf(proxied, 'console_connect').length, 0);
    assert.equal(stepsOf(proxied, 'setup_console').length, 1);
    throwsCode(() => compileCreatePlan(createInput(spec((s) => (s.process!.terminal = true)))), 'console_socket_required', /needs --console-socket/);
  });

  test('tmpcopyup: the tmpfs mount asks the executor to copy what was there; other mounts may not ask', () => {
    const plan = compileCreatePlan(createInput(spec((s) => s.mounts!.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'size=1m'] }))));
    const run = stepWhere(plan, 'mount', (s) => s.args['target'] === '/run');
    assert.equal(run.flags & OpFlag.COPY_UP, OpFlag.COPY_UP);
    assert.equal(run.args.data, 'size=1m');
    assert.equal(stepWhere(plan, 'mount', (s) => s.args['target'] === '/dev').flags & OpFlag.COPY_UP, 0);
    throwsCode(
      () => compileCreatePlan(createInput(spec((s) => s.mounts!.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', 'tmpcopyup'] })))),
      'mount_option_invalid',
      /mounts\[7\]\.options: "tmpcopyup" applies to tmpfs mounts only/,
    );
  });

  test('sysctl writes inside the root, oom_score_adj on the process, rlimits by number', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '12345' };
          s.process!.oomScoreAdj = 300;
          s.process!.rlimits = [
            { type: 'RLIMIT_NOFILE', soft: 10, hard: 20 },
            { type: 'RLIMIT_CORE', soft: 0, hard: 2 ** 64 - 1 },
          ];
        }),
      ),
    );
    assert.deepEqual(stepsOf(plan, 'write_file').map((s) => s.args), [
      { path: '/proc/sys/net/ipv4/ip_forward', data: '1', resolve: RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS },
      { path: '/proc/sys/kernel/shmmax', data: '12345', resolve: RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS },
      { path: '/proc/self/oom_score_adj', data: '300', resolve: 0 },
    ]);
    assert.deepEqual(stepsOf(plan, 'setrlimit').map((s) => [s.args.resource, s.args.soft, s.args.hard]), [
      [RLIMIT['RLIMIT_NOFILE'], 10, 20],
      [RLIMIT['RLIMIT_CORE'], 0, 2 ** 64 - 1],
    ]);
    // The limits are set while still root, before the ids change.
    assertOrder(plan, ['rlimit', opNames(plan).indexOf('setrlimit')], ['ids', opNames(plan).indexOf('set_user')]);
    assert.ok(opNames(plan).indexOf('write_file') < opNames(plan).indexOf('pivot_root'));
  });

  test('sysctl needs /proc; an unknown rlimit is refused', () => {
    throwsCode(
      () =>
        compileCreatePlan(
          createInput(
            spec((s) => {
              s.mounts = s.mounts!.filter((m) => m.destination !== '/proc');
              s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
            }),
          ),
        ),
      'sysctl_without_proc',
      /linux\.sysctl: needs a proc mount/,
    );
    throwsCode(() => compileCreatePlan(createInput(spec((s) => (s.process!.rlimits = [{ type: 'RLIMIT_WINGS', soft: 1, hard: 1 }])))), 'rlimit_type', /unknown limit "RLIMIT_WINGS"/);
  });

  test('user, groups, umask and capabilities become one step each, with masks', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.process!.user = { uid: 1000, gid: 100, additionalGids: [4, 27], umask: 0o027 };
          s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
          s.process!.noNewPrivileges = false;
        }),
      ),
    );
    assert.deepEqual(stepsOf(plan, 'set_user').at(-1)?.args, { uid: 1000, gid: 100, groups: [4, 27] });
    assert.deepEqual(stepsOf(plan, 'umask').at(-1)?.args, { mask: 0o027 });
    assert.deepEqual(stepsOf(plan, 'caps')[0]?.args, { bounding: 0b100001n, effective: 0b100000n, permitted: 0b100000n, inheritable: 0b100000n, ambient: 0b100000n });
    assert.equal(stepsOf(plan, 'no_new_privs').length, 0);
  });

  test('no capabilities given: a step that drops them all, as runc (never the runtime\'s own set)', () => {
    const plan = compileCreatePlan(createInput(spec((s) => delete s.process!.capabilities)));
    assert.deepEqual(stepsOf(plan, 'caps')[0]?.args, { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n });
  });

  test('seccomp: before the capabilities drop without no_new_privs, as late as possible with it', () => {
    const seccomp = { program: new Uint8Array(16), flags: 0, notify: false };
    const withoutNnp = compileCreatePlan(createInput(spec((s) => (s.process!.noNewPrivileges = false)), { seccomp }));
    let names = opNames(withoutNnp);
    assertOrder(withoutNnp, ['seccomp', names.indexOf('seccomp')], ['ids', names.lastIndexOf('set_user')], ['caps', names.indexOf('caps')]);
    const withNnp = compileCreatePlan(createInput(spec(), { seccomp }));
    names = opNames(withNnp);
    assertOrder(withNnp, ['caps', names.indexOf('caps')], ['no_new_privs', names.indexOf('no_new_privs')], ['seccomp', names.indexOf('seccomp')], ['close fds', names.lastIndexOf('close_fds')]);
    assert.deepEqual(stepsOf(withNnp, 'seccomp')[0]?.args, { program: seccomp.program, flags: 0, listener_path: '', listener_state: '' });
  });

  test('preserved fds, waiting and the program lookup', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          s.process!.args = ['my-prog', 'a'];
          s.process!.env = ['PATH=/a:/b', 'PATH=/c'];
        }),
        { preserveFds: 2, wait: true },
      ),
    );
    assert.deepEqual(stepsOf(plan, 'close_fds').map((s) => s.args.first), [5, 5]);
    assert.deepEqual(stepsOf(plan, 'fork')[0]?.args, { wait: 1, console_proxy: 0 });
    // The last PATH wins, as in execvp.
    assert.deepEqual(stepsOf(plan, 'resolve_exec')[0]?.args, { file: 'my-prog', candidates: ['/c/my-prog'] });
  });

  test('domainname and no hostname', () => {
    const plan = compileCreatePlan(
      createInput(
        spec((s) => {
          delete s.hostname;
          s.domainname = 'example.org';
        }),
      ),
    );
    assert.equal(stepsOf(plan, 'sethostname').length, 0);
    assert.deepEqual(stepsOf(plan, 'setdomainname')[0]?.args, { name: 'example.org' });
  });

  test('every step says what it does', () => {
    const plan = compileCreatePlan(createInput(spec((s) => (s.hooks = { createContainer: [{ path: '/h' }] }))));
    for (const step of plan.steps) assert.ok(step.what.length > 3, `${step.op} has no description`);
    assert.match(stepWhere(plan, 'run_hook', () => true).what, /^createContainer hook 0 "\/h"$/);
  });
});

test('the rootfs parent mount is needed (so mountinfo read) only for a rootfsPropagation that may leave it shared', () => {
  const withProp = (rootfsPropagation?: string): Parameters<typeof parentMayBeShared>[0] => ({
    ociVersion: '1.0.2',
    root: { path: 'rootfs' },
    linux: rootfsPropagation === undefined ? {} : { rootfsPropagation },
  });
  for (const p of [undefined, '', 'rslave', 'rprivate', 'runbindable']) assert.equal(parentMayBeShared(withProp(p)), false, String(p));
  for (const p of ['shared', 'rshared', 'slave', 'private', 'unbindable']) assert.equal(parentMayBeShared(withProp(p)), true, p);
});
