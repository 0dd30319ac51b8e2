import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR,
  compileDeviceFilter, decodeBpf, encodeBpf,
} from '../../../src/runtime/cgroups/devices/bpf.ts';
import { DeviceEmulator, ruleString, rulesFromSpec, type DeviceRule } from '../../../src/runtime/cgroups/devices/emulator.ts';
import { isBerthError } from '../../../src/errors.ts';
import { runDeviceProgram } from './ebpf-interpreter.ts';

const rule = (allow: boolean, type: 'a' | 'b' | 'c', major: number, minor: number, access: string): DeviceRule => ({ allow, type, major, minor, access });

test('spec entries become rules: missing type "a", missing numbers "*", missing access "rwm"', () => {
  assert.deepEqual(rulesFromSpec([{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'wr' }]), [
    rule(false, 'a', -1, -1, 'rwm'),
    rule(true, 'c', 1, 3, 'rw'),
  ]);
  assert.equal(ruleString(rule(true, 'c', 136, -1, 'rw')), 'c 136:* rw');
});

test('emulator: "a" resets, exceptions merge and are removed per access bit', () => {
  const emu = DeviceEmulator.from([
    rule(false, 'a', -1, -1, 'rwm'),
    rule(true, 'c', 1, 3, 'r'),
    rule(true, 'c', 1, 3, 'w'),
    rule(true, 'c', 1, 5, 'rwm'),
    rule(false, 'c', 1, 5, 'm'),
    rule(false, 'b', 8, 0, 'rwm'), // removing what is not there is a no-op, as in the kernel
  ]);
  assert.equal(emu.defaultAllow, false);
  assert.deepEqual(emu.rules().map(ruleString), ['c 1:3 rw', 'c 1:5 rw']);
  emu.apply(rule(true, 'a', -1, -1, 'rwm'));
  assert.equal(emu.defaultAllow, true);
  assert.deepEqual(emu.rules(), []);
});

test('emulator: removing access a wider wildcard rule grants is refused (v1 would ignore it)', () => {
  assert.throws(
    () => DeviceEmulator.from([rule(false, 'a', -1, -1, 'rwm'), rule(true, 'c', 1, -1, 'rw'), rule(false, 'c', 1, 3, 'w')]),
    (err: unknown) => isBerthError(err, 'cgroup_device_rule_unsupported') && /cannot punch a hole in the wider rule "c 1:\* rw"/.test(err.message),
  );
});

test('emulator: transition from devices.list is minimal, resets only when the default changes', () => {
  const target = DeviceEmulator.from([rule(false, 'a', -1, -1, 'rwm'), rule(true, 'c', 1, 3, 'rwm'), rule(true, 'c', 5, 0, 'rw')]);
  // From the inherited allow-all: deny everything, then allow.
  assert.deepEqual(DeviceEmulator.fromList('a *:* rwm\n').transition(target).map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleString(r)}`), [
    'deny a *:* rwm',
    'allow c 1:3 rwm',
    'allow c 5:0 rw',
  ]);
  // An update of a running container: only what changes, no moment without /dev/null.
  const current = DeviceEmulator.fromList('c 1:3 rwm\nc 5:0 rwm\nc 10:200 rwm\n');
  assert.deepEqual(current.transition(target).map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleString(r)}`), ['deny c 5:0 m', 'deny c 10:200 rwm']);
  assert.deepEqual(DeviceEmulator.fromList('c 1:3 rwm\nc 5:0 rw\n').transition(target), []);
});

test('BPF: no rules is runc\'s default-deny program (load registers, return 0)', () => {
  const prog = compileDeviceFilter([]);
  assert.deepEqual(prog.map((i) => [i.code, i.dst, i.src, i.off, i.imm]), [
    [0x61, 2, 1, 0, 0], [0x54, 2, 0, 0, 0xffff], [0x61, 3, 1, 0, 0], [0x74, 3, 0, 0, 16], [0x61, 4, 1, 4, 0], [0x61, 5, 1, 8, 0],
    [0xb4, 0, 0, 0, 0], [0x95, 0, 0, 0, 0],
  ]);
  assert.deepEqual(decodeBpf(encodeBpf(prog)), prog);
  // struct bpf_insn: code, dst in the low nibble and src in the high nibble, off, imm.
  assert.deepEqual([...encodeBpf([{ code: 0x61, dst: 2, src: 1, off: 4, imm: -1 }])], [0x61, 0x12, 4, 0, 0xff, 0xff, 0xff, 0xff]);
});

test('BPF: a block per exception with jumps to the next block', () => {
  const prog = compileDeviceFilter([rule(false, 'a', -1, -1, 'rwm'), rule(true, 'c', 1, 3, 'rw'), rule(true, 'b', 8, -1, 'rwm')]);
  const body = prog.slice(6).map((i) => [i.code, i.dst, i.src, i.off, i.imm]);
  assert.deepEqual(body, [
    // c 1:3 rw: type, access subset, major, minor, allow
    [0x55, 2, 0, 7, BPF_DEVCG_DEV_CHAR], [0xbc, 1, 3, 0, 0], [0x54, 1, 0, 0, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE], [0x5d, 1, 3, 4, 0],
    [0x55, 4, 0, 3, 1], [0x55, 5, 0, 2, 3], [0xb4, 0, 0, 0, 1], [0x95, 0, 0, 0, 0],
    // b 8:* rwm: type and major only
    [0x55, 2, 0, 3, BPF_DEVCG_DEV_BLOCK], [0x55, 4, 0, 2, 8], [0xb4, 0, 0, 0, 1], [0x95, 0, 0, 0, 0],
    // default deny
    [0xb4, 0, 0, 0, 0], [0x95, 0, 0, 0, 0],
  ]);
});

/** The v1 kernel's decision for a final rule set: allow-list needs a covering exception, deny-list any overlapping one. */
function kernelDecision(emu: DeviceEmulator, type: 'b' | 'c', major: number, minor: number, access: number): boolean {
  const bits = (s: string): number => (s.includes('r') ? 1 : 0) | (s.includes('w') ? 2 : 0) | (s.includes('m') ? 4 : 0);
  const matches = emu.rules().filter((r) => r.type === type && (r.major === -1 || r.major === major) && (r.minor === -1 || r.minor === minor));
  if (!emu.defaultAllow) return matches.some((r) => (access & ~bits(r.access)) === 0);
  return !matches.some((r) => (access & bits(r.access)) !== 0);
}

test('BPF: the compiled program decides like the devices cgroup, for random rule sets (differential)', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)] as T;
  const accesses = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
  let checked = 0;
  for (let round = 0; round < 300; round++) {
    const rules: DeviceRule[] = [rule(rand(2) === 0, 'a', -1, -1, 'rwm')];
    for (let n = rand(6); n > 0; n--) rules.push(rule(rand(2) === 0, pick(['b', 'c'] as const), pick([-1, 1, 5, 8]), pick([-1, 0, 3]), pick(accesses)));
    let emu: DeviceEmulator;
    try {
      emu = DeviceEmulator.from(rules);
    } catch {
      continue; // a refused hole punch
    }
    const prog = compileDeviceFilter(rules);
    for (const type of ['b', 'c'] as const) {
      for (const major of [1, 5, 8, 9]) {
        for (const minor of [0, 3, 7]) {
          for (let access = 1; access < 8; access++) {
            const bpfAccess = (access & 1 ? BPF_DEVCG_ACC_READ : 0) | (access & 2 ? BPF_DEVCG_ACC_WRITE : 0) | (access & 4 ? BPF_DEVCG_ACC_MKNOD : 0);
            const got = runDeviceProgram(prog, { type: type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, access: bpfAccess, major, minor });
            const want = kernelDecision(emu, type, major, minor, access);
            assert.equal(got === 1, want, `${rules.map((r) => `${r.allow ? '+' : '-'}${ruleString(r)}`).join(', ')}: ${type} ${major}:${minor} access ${access}`);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 50000, `checked ${checked}`);
});

test('BPF: a deny of "w" also refuses open(O_RDWR) (overlap, where runc checks a subset)', () => {
  const prog = compileDeviceFilter([rule(true, 'a', -1, -1, 'rwm'), rule(false, 'c', 1, 3, 'w')]);
  const ask = (access: number): number => runDeviceProgram(prog, { type: BPF_DEVCG_DEV_CHAR, access, major: 1, minor: 3 });
  assert.equal(ask(BPF_DEVCG_ACC_READ), 1);
  assert.equal(ask(BPF_DEVCG_ACC_WRITE), 0);
  assert.equal(ask(BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE), 0);
});
