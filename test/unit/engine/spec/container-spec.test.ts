import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageConfig } from '../../../../src/oci/image-spec.ts';
import type { Spec } from '../../../../src/oci/runtime-spec.ts';
import { parseSpec } from '../../../../src/runtime/spec/load.ts';
import { semanticProblems } from '../../../../src/runtime/spec/validate.ts';
import { commandLine, containerSpec, stopSignal, volumesToResolve, type EngineFacts } from '../../../../src/engine/spec/container-spec.ts';
import { parseRunOptions, type RunFlags } from '../../../../src/engine/spec/options.ts';
import { DOCKER_CAPS } from '../../../../src/engine/spec/security.ts';
import { throwsCode } from './helpers.ts';

const ID = 'f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef0123';
const facts: EngineFacts = {
  id: ID,
  rootfs: '/var/lib/berth/c/rootfs',
  hostsPath: '/run/berth/c/hosts',
  hostnamePath: '/run/berth/c/hostname',
  resolvConfPath: '/run/berth/c/resolv.conf',
  volumePaths: { '/data': '/var/lib/berth/volumes/anon/_data', '/db': '/var/lib/berth/volumes/db/_data' },
  userDb: {
    passwd: 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\nbob:x:1000:1000::/home/bob:/bin/sh\n',
    group: 'root:x:0:\nwww:x:33:\nstaff:x:50:bob\nbob:x:1000:\n',
  },
  nativeArch: 'x86_64',
};

function image(config: ImageConfig['config'] = {}): ImageConfig {
  return { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] }, config };
}

/** The spec for the flags, checked by the runtime's own validator (schema, then its rules) as `create` would. */
async function build(flags: RunFlags, img = image({ Cmd: ['sh'] }), args: string[] = [], f: EngineFacts = facts): Promise<Spec> {
  const spec = containerSpec(img, parseRunOptions(flags), args, f);
  const checked = await parseSpec(JSON.stringify(spec), 'generated spec');
  assert.deepEqual(semanticProblems(checked, { requireProcess: true }), []);
  return spec;
}

test('with no flags a container gets Docker\'s defaults', async () => {
  const spec = await build({});
  const p = spec.process!;
  assert.deepEqual(p.capabilities, { bounding: DOCKER_CAPS, effective: DOCKER_CAPS, permitted: DOCKER_CAPS });
  assert.equal(p.noNewPrivileges, false);
  assert.equal(p.oomScoreAdj, undefined);
  assert.equal(p.rlimits, undefined);
  assert.deepEqual(p.user, { uid: 0, gid: 0 });
  assert.equal(p.cwd, '/');
  assert.deepEqual(p.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=f00dfeedcafe']);
  assert.equal(spec.hostname, 'f00dfeedcafe');
  assert.deepEqual(spec.root, { path: facts.rootfs, readonly: false });
  const linux = spec.linux!;
  assert.deepEqual(linux.namespaces?.map((n) => n.type).sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
  assert.ok(linux.maskedPaths?.includes('/proc/kcore') && linux.maskedPaths.includes('/sys/firmware'));
  assert.deepEqual(linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.deepEqual(linux.resources, { devices: [{ allow: false, access: 'rwm' }] });
  assert.equal(linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  // Docker's profile without CAP_SYS_ADMIN confines clone to no namespace flags.
  assert.ok(linux.seccomp?.syscalls?.some((s) => s.names.includes('clone') && s.args !== undefined));
  assert.deepEqual(spec.mounts?.map((m) => m.destination), [
    '/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts',
  ]);
  assert.deepEqual(spec.mounts?.find((m) => m.destination === '/dev/shm')?.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']);
  assert.deepEqual(spec.mounts?.find((m) => m.destination === '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: facts.hostsPath, options: ['rbind', 'rprivate', 'rw'] });
  assert.equal(spec.annotations, undefined);
});

test('Entrypoint and Cmd as docker documents their interaction', () => {
  const o = (flags: RunFlags = {}) => parseRunOptions(flags);
  const ep = ['/bin/entry', 'e1'];
  const cmd = ['/bin/cmd', 'c1'];
  // No ENTRYPOINT: CMD runs.
  assert.deepEqual(commandLine(image({ Cmd: cmd }), o(), []), cmd);
  // ENTRYPOINT alone; ENTRYPOINT with CMD as its default arguments.
  assert.deepEqual(commandLine(image({ Entrypoint: ep }), o(), []), ep);
  assert.deepEqual(commandLine(image({ Entrypoint: ep, Cmd: cmd }), o(), []), [...ep, ...cmd]);
  // Arguments after the image replace CMD, not ENTRYPOINT.
  assert.deepEqual(commandLine(image({ Entrypoint: ep, Cmd: cmd }), o(), ['a1']), [...ep, 'a1']);
  assert.deepEqual(commandLine(image({ Cmd: cmd }), o(), ['ls', '-l']), ['ls', '-l']);
  // --entrypoint replaces ENTRYPOINT and drops the image's CMD.
  assert.deepEqual(commandLine(image({ Entrypoint: ep, Cmd: cmd }), o({ entrypoint: '/bin/other' }), []), ['/bin/other']);
  assert.deepEqual(commandLine(image({ Entrypoint: ep, Cmd: cmd }), o({ entrypoint: '/bin/other' }), ['a1']), ['/bin/other', 'a1']);
  // --entrypoint "" clears it: the arguments are the command.
  assert.deepEqual(commandLine(image({ Entrypoint: ep, Cmd: cmd }), o({ entrypoint: '' }), ['sh']), ['sh']);
  throwsCode(() => commandLine(image({ Entrypoint: ep, Cmd: cmd }), o({ entrypoint: '' }), []), 'run_no_command', /no command specified/);
  throwsCode(() => commandLine(image({ Entrypoint: null, Cmd: null }), o(), []), 'run_no_command', /no command specified/);
});

test('env: image Env over the defaults, -e over the image by key, TERM with a terminal', async () => {
  const img = image({ Cmd: ['sh'], Env: ['PATH=/app/bin', 'MODE=image', 'KEEP=1'] });
  const spec = await build({ env: ['MODE=flag', 'NEW=2'], hostname: 'web' }, img, [], { ...facts, terminal: true });
  assert.deepEqual(spec.process?.env, ['PATH=/app/bin', 'HOSTNAME=web', 'TERM=xterm', 'MODE=flag', 'KEEP=1', 'NEW=2']);
  assert.equal(spec.process?.terminal, true);
  assert.equal(spec.hostname, 'web');
});

test('user: names and groups from the image\'s files, numbers as they are, non-root gets the bounding set only', async () => {
  const asBob = await build({ user: 'bob' });
  assert.deepEqual(asBob.process?.user, { uid: 1000, gid: 1000, additionalGids: [50] });
  assert.deepEqual(asBob.process?.capabilities, { bounding: DOCKER_CAPS });
  assert.deepEqual((await build({ user: 'www:staff' })).process?.user, { uid: 33, gid: 50 });
  assert.deepEqual((await build({ user: '4242:4343' })).process?.user, { uid: 4242, gid: 4343 });
  assert.deepEqual((await build({}, image({ Cmd: ['sh'], User: 'www' }))).process?.user, { uid: 33, gid: 33 });
  assert.deepEqual((await build({ user: '0' }, image({ Cmd: ['sh'], User: 'www' }))).process?.user, { uid: 0, gid: 0 });
  throwsCode(() => containerSpec(image({ Cmd: ['sh'] }), parseRunOptions({ user: 'mallory' }), [], facts), 'run_flag_invalid', /--user "mallory": no user "mallory" in the image's \/etc\/passwd/);
  throwsCode(() => containerSpec(image({ Cmd: ['sh'] }), parseRunOptions({ user: 'bob:wheel' }), [], facts), 'run_flag_invalid', /--user "bob:wheel": no group "wheel"/);
});

test('workdir: -w over the image\'s WorkingDir over "/"', async () => {
  assert.equal((await build({}, image({ Cmd: ['sh'], WorkingDir: '/app' }))).process?.cwd, '/app');
  assert.equal((await build({ workdir: '/srv' }, image({ Cmd: ['sh'], WorkingDir: '/app' }))).process?.cwd, '/srv');
  throwsCode(() => containerSpec(image({ Cmd: ['sh'], WorkingDir: 'app' }), parseRunOptions({}), [], facts), 'image_workdir', /WorkingDir "app"/);
});

test('capabilities added and dropped reach every set and the seccomp profile', async () => {
  const spec = await build({ capAdd: ['sys_admin'], capDrop: ['ALL'] });
  assert.deepEqual(spec.process?.capabilities, { bounding: ['CAP_SYS_ADMIN'], effective: ['CAP_SYS_ADMIN'], permitted: ['CAP_SYS_ADMIN'] });
  const syscalls = spec.linux?.seccomp?.syscalls ?? [];
  assert.ok(syscalls.some((s) => s.names.includes('mount') && s.action === 'SCMP_ACT_ALLOW'), 'CAP_SYS_ADMIN allows mount');
  assert.ok(!syscalls.some((s) => s.names.includes('clone') && s.args !== undefined), 'no clone restriction with CAP_SYS_ADMIN');
});

test('security options: no-new-privileges, seccomp unconfined or from a file the engine read', async () => {
  assert.equal((await build({ securityOpt: ['no-new-privileges'] })).process?.noNewPrivileges, true);
  assert.equal((await build({ securityOpt: ['seccomp=unconfined'] })).linux?.seccomp, undefined);
  const profile = { defaultAction: 'SCMP_ACT_ALLOW' as const, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' as const }] };
  const fromFile = await build({ securityOpt: ['seccomp=/p.json'] }, undefined, [], { ...facts, seccompProfileText: JSON.stringify(profile) });
  assert.deepEqual(fromFile.linux?.seccomp, profile);
  throwsCode(() => containerSpec(image({ Cmd: ['sh'] }), parseRunOptions({ securityOpt: ['seccomp=/p.json'] }), [], facts), 'run_fact_missing', /seccomp=\/p\.json/);
});

test('mounts: Docker\'s defaults less the replaced ones, then the user\'s by depth, volumes from the engine', async () => {
  const img = image({ Cmd: ['sh'], Volumes: { '/data': {}, '/db': {} } });
  const flags: RunFlags = { volume: ['/host/deep:/a/b/c:ro', 'db:/db'], tmpfs: ['/dev/shm:size=1m', '/tmp'], mount: ['type=bind,src=/h,dst=/a'] };
  assert.deepEqual(volumesToResolve(img, parseRunOptions(flags)), [{ target: '/db', name: 'db' }, { target: '/data' }]);
  const spec = await build(flags, img);
  assert.deepEqual(spec.mounts?.map((m) => m.destination), [
    '/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue',
    '/db', '/a', '/tmp', '/data', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts', '/a/b/c',
  ]);
  const by = (d: string) => spec.mounts?.find((m) => m.destination === d);
  assert.deepEqual(by('/a/b/c'), { destination: '/a/b/c', type: 'bind', source: '/host/deep', options: ['rbind', 'rprivate', 'ro'] });
  assert.deepEqual(by('/db'), { destination: '/db', type: 'bind', source: facts.volumePaths['/db'], options: ['rbind', 'rprivate', 'rw'] });
  assert.deepEqual(by('/data')?.source, facts.volumePaths['/data']);
  assert.deepEqual(by('/dev/shm'), { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'size=1m'] });
  throwsCode(() => containerSpec(img, parseRunOptions({}), [], { ...facts, volumePaths: {} }), 'run_fact_missing', /volume at "\/data"/);
});

test('a user mount of /dev drops Docker\'s /dev mounts; one on /etc/hosts replaces the generated file', async () => {
  const spec = await build({ volume: ['/host/dev:/dev', '/my/hosts:/etc/hosts:ro'] });
  const dests = spec.mounts?.map((m) => m.destination) ?? [];
  assert.ok(!dests.some((d) => d.startsWith('/dev/')), dests.join(' '));
  assert.deepEqual(spec.mounts?.filter((m) => m.destination === '/etc/hosts').map((m) => m.source), ['/my/hosts']);
});

test('--read-only: the root and the generated files read-only', async () => {
  const spec = await build({ readOnly: true });
  assert.equal(spec.root?.readonly, true);
  for (const d of ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) assert.ok(spec.mounts?.find((m) => m.destination === d)?.options?.includes('ro'), d);
});

test('--network host keeps the host\'s network namespace', async () => {
  const spec = await build({ network: 'host' });
  assert.ok(!spec.linux?.namespaces?.some((n) => n.type === 'network'));
});

test('--init: the engine\'s init runs first, bound read-only', async () => {
  const spec = await build({ init: true }, image({ Entrypoint: ['/app'], Cmd: ['x'] }), [], { ...facts, init: { source: '/usr/libexec/berth/init', target: '/sbin/berth-init' } });
  assert.deepEqual(spec.process?.args, ['/sbin/berth-init', '--', '/app', 'x']);
  assert.deepEqual(spec.mounts?.find((m) => m.destination === '/sbin/berth-init'), {
    destination: '/sbin/berth-init', type: 'bind', source: '/usr/libexec/berth/init', options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'],
  });
  throwsCode(() => containerSpec(image({ Cmd: ['sh'] }), parseRunOptions({ init: true }), [], facts), 'run_fact_missing', /--init/);
});

test('labels become annotations (the user\'s over the image\'s); limits and resources reach the spec', async () => {
  const spec = await build({ label: ['tier=web', 'owner=me'], ulimit: ['nofile=100:200'], memory: '64m', cpus: '0.5', pidsLimit: '20', cpuShares: '256' }, image({ Cmd: ['sh'], Labels: { tier: 'base', from: 'image' } }));
  assert.deepEqual(spec.annotations, { tier: 'web', from: 'image', owner: 'me' });
  assert.deepEqual(spec.process?.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }]);
  assert.deepEqual(spec.linux?.resources, {
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 64 * 2 ** 20, swap: 128 * 2 ** 20 },
    cpu: { quota: 50000, period: 100000, shares: 256 },
    pids: { limit: 20 },
  });
});

test('an image with a broken Env or a relative VOLUME is refused', () => {
  throwsCode(() => containerSpec(image({ Cmd: ['x'], Env: ['JUSTNAME'] }), parseRunOptions({}), [], facts), 'image_env', /Env "JUSTNAME"/);
  throwsCode(() => containerSpec(image({ Cmd: ['x'], Volumes: { data: {} } }), parseRunOptions({}), [], facts), 'image_volume', /Volumes "data"/);
});

test('the stop signal: --stop-signal, else the image\'s STOPSIGNAL, else SIGTERM', () => {
  assert.equal(stopSignal(image({}), parseRunOptions({})), 15);
  assert.equal(stopSignal(image({ StopSignal: 'SIGQUIT' }), parseRunOptions({})), 3);
  assert.equal(stopSignal(image({ StopSignal: 'SIGQUIT' }), parseRunOptions({ stopSignal: 'USR1' })), 10);
  throwsCode(() => stopSignal(image({ StopSignal: 'SIGFOO' }), parseRunOptions({})), 'image_stop_signal', /StopSignal "SIGFOO"/);
});

test('a non-Linux image is refused', () => {
  throwsCode(() => containerSpec({ ...image({ Cmd: ['x'] }), os: 'windows' }, parseRunOptions({}), [], facts), 'image_os', /os "windows"/);
});
