import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAPABILITIES } from '../../../../src/runtime/linux/constants.ts';
import { DOCKER_CAPS, normalizeCapability, parseSecurity, parseSecurityOpts, tweakCapabilities } from '../../../../src/engine/spec/security.ts';
import { throwsCode } from './helpers.ts';

function capsFor(add: string[], drop: string[]): string[] {
  const s = parseSecurity(add, drop, []);
  return tweakCapabilities(DOCKER_CAPS, s.capAdd, s.capDrop);
}

test('Docker\'s default set is the 14 capabilities of moby\'s defaults', () => {
  assert.deepEqual([...DOCKER_CAPS].sort(), [
    'CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD', 'CAP_NET_BIND_SERVICE',
    'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
  ]);
  assert.deepEqual(capsFor([], []), DOCKER_CAPS);
});

test('names are case-insensitive, with or without CAP_', () => {
  for (const raw of ['net_admin', 'NET_ADMIN', 'cap_net_admin', 'Cap_Net_Admin']) assert.equal(normalizeCapability('--cap-add', raw), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('--cap-drop', 'all'), 'ALL');
  throwsCode(() => parseSecurity(['NET_MAGIC'], [], []), 'run_flag_invalid', /--cap-add "NET_MAGIC": not a capability/);
  throwsCode(() => parseSecurity([], ['cap_'], []), 'run_flag_invalid', /--cap-drop "cap_"/);
});

test('add and drop against the default set, without duplicates', () => {
  const caps = capsFor(['sys_admin', 'CHOWN'], ['net_raw', 'CAP_MKNOD']);
  assert.ok(caps.includes('CAP_SYS_ADMIN'));
  assert.ok(!caps.includes('CAP_NET_RAW') && !caps.includes('CAP_MKNOD'));
  assert.equal(caps.filter((c) => c === 'CAP_CHOWN').length, 1);
  assert.equal(caps.length, 13);
});

test('--cap-add ALL gives every capability but the dropped ones; --cap-drop ALL keeps only the added ones', () => {
  const all = capsFor(['ALL'], ['sys_module']);
  assert.equal(all.length, Object.keys(CAPABILITIES).length - 1);
  assert.ok(!all.includes('CAP_SYS_MODULE'));
  assert.deepEqual(capsFor(['net_bind_service'], ['all']), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(capsFor([], ['ALL']), []);
});

test('--security-opt: seccomp and no-new-privileges forms', () => {
  assert.deepEqual(parseSecurityOpts([]), { seccomp: { kind: 'default' }, noNewPrivileges: false });
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined', 'no-new-privileges']), { seccomp: { kind: 'unconfined' }, noNewPrivileges: true });
  assert.deepEqual(parseSecurityOpts(['seccomp=/etc/p.json', 'no-new-privileges=true', 'no-new-privileges:false']), { seccomp: { kind: 'file', path: '/etc/p.json' }, noNewPrivileges: false });
  throwsCode(() => parseSecurityOpts(['no-new-privileges=yes']), 'run_flag_invalid', /--security-opt "no-new-privileges=yes": .*true or false/);
  throwsCode(() => parseSecurityOpts(['seccomp=']), 'run_flag_invalid', /--security-opt "seccomp="/);
  throwsCode(() => parseSecurityOpts(['apparmor=x']), 'run_flag_invalid', /--security-opt "apparmor=x"/);
});
