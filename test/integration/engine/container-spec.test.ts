/**
 * The spec the engine generates, run by berth's runtime library (root):
 * what the flags and Docker's defaults promise is observed from inside the
 * container (capabilities, seccomp, no_new_privs, env, cwd, ids, hostname,
 * the read-only root, a tmpfs, masked /proc and /sys paths, the generated files).
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { containerSpec, type EngineFacts } from '../../../src/engine/spec/container-spec.ts';
import { parseRunOptions, type RunFlags } from '../../../src/engine/spec/options.ts';
import { DOCKER_CAPS } from '../../../src/engine/spec/security.ts';
import type { ImageConfig } from '../../../src/oci/image-spec.ts';
import { CAPABILITIES } from '../../../src/runtime/linux/constants.ts';
import { runtimeContext } from '../../../src/runtime/lifecycle/context.ts';
import { deleteContainer } from '../../../src/runtime/lifecycle/delete.ts';
import { run } from '../../../src/runtime/lifecycle/run.ts';
import { berthOnly, makeRootfs, onCleanup, tempDir, uniqueId } from '../../helpers/runtime.ts';

const IMAGE: ImageConfig = {
  os: 'linux',
  architecture: 'amd64',
  rootfs: { type: 'layers', diff_ids: [] },
  config: { Env: ['PATH=/bin', 'FROM_IMAGE=image', 'MODE=image'], WorkingDir: '/home', Cmd: ['sh'] },
};

/** What the container reports, one `key=value` line each. */
const PROBE = [
  'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status | tr -d "\\t" | sed "s/:/=/"',
  'echo "cwd=$(pwd)"; echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "hostname=$(hostname)"',
  'echo "etc_hostname=$(cat /etc/hostname)"; echo "hosts=$(cat /etc/hosts)"',
  'echo "FROM_IMAGE=$FROM_IMAGE"; echo "MODE=$MODE"; echo "HOSTNAME=$HOSTNAME"',
  'if touch /probe 2>/dev/null; then echo root=writable; else echo root=readonly; fi',
  'if mkdir /probe-dir 2>/dev/null; then echo mkdir=allowed; else echo mkdir=denied; fi',
  'if echo hi > /scratch/f && [ "$(cat /scratch/f)" = hi ]; then echo scratch=writable; fi',
  'echo "scratch_fs=$(awk \'$2 == "/scratch" { print $3 }\' /proc/self/mounts)"',
  'echo "timer_list_bytes=$(wc -c < /proc/timer_list)"; echo "firmware_entries=$(ls /sys/firmware | wc -l)"',
].join('; ');

function capMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(CAPABILITIES[c] ?? -1);
  return mask.toString(16).padStart(16, '0');
}

/** Runs the probe with the flags; returns its key=value report. */
async function probe(t: TestContext, flags: RunFlags, seccompProfileText?: string): Promise<Record<string, string>> {
  const dir = tempDir(t, 'berth-engine-spec-');
  const rootfs = makeRootfs(dir);
  const files = join(dir, 'files');
  mkdirSync(files);
  writeFileSync(join(files, 'hosts'), '127.0.0.1 localhost\n');
  writeFileSync(join(files, 'hostname'), 'probe-host\n');
  writeFileSync(join(files, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  const id = uniqueId('spec').replace(/[^a-z0-9]/g, '').padEnd(64, '0').slice(0, 64);
  const facts: EngineFacts = {
    id,
    rootfs,
    hostsPath: join(files, 'hosts'),
    hostnamePath: join(files, 'hostname'),
    resolvConfPath: join(files, 'resolv.conf'),
    volumePaths: {},
    userDb: { passwd: readFileSync(join(rootfs, 'etc/passwd'), 'utf8'), group: readFileSync(join(rootfs, 'etc/group'), 'utf8') },
    ...(seccompProfileText === undefined ? {} : { seccompProfileText }),
  };
  const spec = containerSpec(IMAGE, parseRunOptions(flags, {}), ['sh', '-c', PROBE], facts);
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

  const state = join(dir, 'state');
  const ctx = runtimeContext(state);
  onCleanup(t, async () => {
    for (const c of existsSync(state) ? readdirSync(state) : []) await deleteContainer(ctx, c, true).catch(() => undefined);
  });
  const outFile = join(dir, 'out');
  const fd = openSync(outFile, 'w');
  let code: number;
  try {
    code = await run(ctx, id, { bundle, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const out = readFileSync(outFile, 'utf8');
  assert.equal(code, 0, out);
  return Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const skip = berthOnly('it drives berth\'s runtime library, no command');

test('Docker\'s defaults as seen inside: its 14 capabilities, seccomp filter, env, cwd, hostname, generated files, masked paths (root)', { skip }, async (t) => {
  const r = await probe(t, { env: ['MODE=flag'], tmpfs: ['/scratch'] });
  assert.equal(r['CapEff'], capMask(DOCKER_CAPS));
  assert.equal(r['CapEff'], '00000000a80425fb', 'Docker\'s documented default set');
  assert.equal(r['Seccomp'], '2');
  assert.equal(r['NoNewPrivs'], '0');
  assert.equal(r['cwd'], '/home');
  assert.equal(r['uid'], '0');
  assert.equal(r['gid'], '0');
  assert.match(r['hostname'] ?? '', /^spec[0-9a-z]{8}$/);
  assert.equal(r['HOSTNAME'], r['hostname']);
  assert.equal(r['etc_hostname'], 'probe-host');
  assert.equal(r['hosts'], '127.0.0.1 localhost');
  assert.equal(r['FROM_IMAGE'], 'image');
  assert.equal(r['MODE'], 'flag');
  assert.equal(r['root'], 'writable');
  assert.equal(r['mkdir'], 'allowed');
  assert.equal(r['scratch'], 'writable');
  assert.equal(r['scratch_fs'], 'tmpfs');
  // Masked as Docker masks them (/proc/kcore is absent on some kernels; these two are there and not empty on the host).
  assert.ok(readFileSync('/proc/timer_list').length > 0 && readdirSync('/sys/firmware').length > 0, 'the host has what the check needs');
  assert.equal(r['timer_list_bytes'], '0', '/proc/timer_list is masked');
  assert.equal(r['firmware_entries'], '0', '/sys/firmware is masked');
});

test('flags as seen inside: --user, --workdir, --hostname, --read-only, --cap-drop ALL --cap-add, no-new-privileges (root)', { skip }, async (t) => {
  const r = await probe(t, {
    user: 'nobody', workdir: '/tmp', hostname: 'web', readOnly: true, tmpfs: ['/scratch:mode=1777'],
    securityOpt: ['no-new-privileges'],
  });
  assert.equal(r['uid'], '65534');
  assert.equal(r['gid'], '65534');
  assert.equal(r['CapEff'], '0000000000000000', 'a non-root user has no effective capabilities');
  assert.equal(r['NoNewPrivs'], '1');
  assert.equal(r['Seccomp'], '2');
  assert.equal(r['cwd'], '/tmp');
  assert.equal(r['hostname'], 'web');
  assert.equal(r['root'], 'readonly');
  assert.equal(r['scratch'], 'writable', 'a tmpfs stays writable on a read-only root');

  const caps = await probe(t, { capDrop: ['ALL'], capAdd: ['chown', 'CAP_KILL'], securityOpt: ['seccomp=unconfined'], tmpfs: ['/scratch'] });
  assert.equal(caps['CapEff'], capMask(['CAP_CHOWN', 'CAP_KILL']));
  assert.equal(caps['Seccomp'], '0');
});

test('--security-opt seccomp=FILE in Docker\'s format is the filter inside (root)', { skip }, async (t) => {
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: [] }],
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      // Dropped: the container lacks CAP_SYS_ADMIN, so touch stays allowed.
      { names: ['openat', 'open', 'utimensat'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_ADMIN'] } },
    ],
  };
  const r = await probe(t, { securityOpt: ['seccomp=/etc/profile.json'], tmpfs: ['/scratch'] }, JSON.stringify(profile));
  assert.equal(r['Seccomp'], '2');
  assert.equal(r['mkdir'], 'denied');
  assert.equal(r['root'], 'writable');
});
