/**
 * The plan encoder, checked against a decoder written here from the format
 * in opcodes.ts (not from encode.ts): every operation and argument kind
 * round-trips, integers wrap to 64 bits the way the executor reads them,
 * and what the executor could not take (NUL inside strings, wrong types) is
 * refused at encoding time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeError, isBerthError } from '../../../../src/errors.ts';
import { compileCreatePlan } from '../../../../src/runtime/plan/create-plan.ts';
import { describePlan, encodePlan, Plan } from '../../../../src/runtime/plan/encode.ts';
import { ArgKind, type ArgKindName, OPS, type OpName, PLAN_MAGIC, PLAN_MAX_BYTES, PLAN_VERSION } from '../../../../src/runtime/plan/opcodes.ts';
import { createInput, spec } from './helpers.ts';

type Value = bigint | Buffer | string[] | bigint[];
interface DecodedOp {
  code: number;
  flags: number;
  args: { kind: number; value: Value }[];
}

function decode(buf: Buffer): { magic: number; version: number; ops: DecodedOp[] } {
  let at = 0;
  const u32 = (): number => {
    const v = buf.readUInt32LE(at);
    at += 4;
    return v;
  };
  const str = (): Buffer => {
    const len = u32();
    const bytes = buf.subarray(at, at + len);
    assert.equal(buf[at + len], 0, 'a string ends in NUL');
    at += len + 1;
    return Buffer.from(bytes);
  };
  const magic = u32();
  const version = u32();
  const count = u32();
  const ops: DecodedOp[] = [];
  for (let i = 0; i < count; i++) {
    const code = buf.readUInt16LE(at);
    const flags = buf.readUInt16LE(at + 2);
    const argc = buf.readUInt16LE(at + 4);
    assert.equal(buf.readUInt16LE(at + 6), 0, 'op padding');
    at += 8;
    const args: DecodedOp['args'] = [];
    for (let j = 0; j < argc; j++) {
      const kind = buf[at] ?? -1;
      assert.deepEqual([...buf.subarray(at + 1, at + 4)], [0, 0, 0], 'arg padding');
      at += 4;
      if (kind === ArgKind.int) {
        args.push({ kind, value: buf.readBigInt64LE(at) });
        at += 8;
      } else if (kind === ArgKind.str) {
        args.push({ kind, value: str() });
      } else if (kind === ArgKind.strv) {
        const n = u32();
        const list: string[] = [];
        for (let k = 0; k < n; k++) list.push(str().toString('utf8'));
        args.push({ kind, value: list });
      } else if (kind === ArgKind.intv) {
        const n = u32();
        const list: bigint[] = [];
        for (let k = 0; k < n; k++) {
          list.push(buf.readBigInt64LE(at));
          at += 8;
        }
        args.push({ kind, value: list });
      } else {
        assert.fail(`unknown argument kind ${kind}`);
      }
    }
    ops.push({ code, flags, args });
  }
  assert.equal(at, buf.length, 'no trailing bytes');
  return { magic, version, ops };
}

describe('encodePlan', () => {
  test('header, then each operation with its arguments in the order opcodes.ts lists them', () => {
    const plan = new Plan()
      .add('mount', { source: '/src', target: '/dst', fstype: 'tmpfs', flags: 6, data: 'size=1m', kind: 1, source_in_root: 0 }, 'mount it')
      .add('set_user', { uid: 1000, gid: 100, groups: [4, 27, 0] }, 'ids', 0)
      .add('exec', { argv: ['sh', '-c', 'échec "quoted"'], envv: [] }, 'exec', 0)
      .add('symlink', { dir: '/dev', name: 'fd', link_target: '/proc/self/fd' }, 'link', 2)
      .add('ready', {}, 'ready');
    const d = decode(encodePlan(plan));
    assert.equal(d.magic, PLAN_MAGIC);
    assert.equal(d.version, PLAN_VERSION);
    assert.deepEqual(
      d.ops.map((o) => [o.code, o.flags, o.args.length]),
      [
        [OPS.mount.code, 0, 7],
        [OPS.set_user.code, 0, 3],
        [OPS.exec.code, 0, 2],
        [OPS.symlink.code, 2, 3],
        [OPS.ready.code, 0, 0],
      ],
    );
    const mount = d.ops[0]?.args.map((a) => a.value);
    assert.deepEqual(mount, [Buffer.from('/src'), Buffer.from('/dst'), Buffer.from('tmpfs'), 6n, Buffer.from('size=1m'), 1n, 0n]);
    assert.deepEqual(d.ops[1]?.args.map((a) => a.value), [1000n, 100n, [4n, 27n, 0n]]);
    assert.deepEqual(d.ops[2]?.args.map((a) => a.value), [['sh', '-c', 'échec "quoted"'], []]);
  });

  test('every operation round-trips with values of its argument kinds', () => {
    const sample: Record<ArgKindName, unknown> = { int: -7, str: 'a string', strv: ['x', '', 'z'], intv: [1, -1] };
    const expected: Record<ArgKindName, Value> = { int: -7n, str: Buffer.from('a string'), strv: ['x', '', 'z'], intv: [1n, -1n] };
    for (const [name, def] of Object.entries(OPS)) {
      const args = Object.fromEntries(Object.entries(def.args).map(([a, kind]) => [a, sample[kind]]));
      const plan = new Plan();
      plan.steps.push({ op: name as OpName, args: args, flags: 1, what: name });
      const d = decode(encodePlan(plan));
      const op = d.ops[0];
      assert.equal(op?.code, def.code, name);
      assert.equal(op?.flags, 1, name);
      assert.deepEqual(
        op?.args.map((a) => a.kind),
        Object.values(def.args).map((k) => ArgKind[k]),
        name,
      );
      assert.deepEqual(
        op?.args.map((a) => a.value),
        Object.values(def.args).map((k) => expected[k]),
        name,
      );
    }
  });

  test('integers: 64-bit two\'s complement; 2^63 and above (RLIM_INFINITY in JSON) wrap to the same bits', () => {
    const values: [number | bigint, bigint][] = [
      [0, 0n],
      [-1, -1n],
      [2 ** 53, 2n ** 53n],
      [2 ** 64 - 1, -1n], // a JSON number that means RLIM_INFINITY (~0)
      [2 ** 63, -1n],
      [(1n << 64n) - 1n, -1n],
      [(1n << 63n) - 1n, (1n << 63n) - 1n],
      [1n << 63n, -(1n << 63n)],
      [3.9, 3n],
    ];
    for (const [input, bits] of values) {
      const d = decode(encodePlan(new Plan().add('umask', { mask: input }, 'x')));
      assert.equal(d.ops[0]?.args[0]?.value, bits, String(input));
    }
  });

  test('raw bytes (a seccomp program) keep their NULs; text may not contain one', () => {
    const program = new Uint8Array([0x20, 0, 0, 0, 4, 0, 0, 0]);
    const d = decode(encodePlan(new Plan().add('seccomp', { program, flags: 0, listener_path: '', listener_state: '' }, 'x')));
    assert.deepEqual(d.ops[0]?.args[0]?.value, Buffer.from(program));
    assert.throws(() => encodePlan(new Plan().add('chdir', { path: '/a\0b' }, 'x')), /plan step chdir: path contains a NUL byte/);
    assert.throws(() => encodePlan(new Plan().add('exec', { argv: ['ok', 'b\0d'], envv: [] }, 'x')), /plan step exec: argv contains a NUL byte/);
  });

  test('a wrong type is refused, naming the step and argument', () => {
    const bad = new Plan();
    bad.steps.push({ op: 'umask', args: { mask: '18' }, flags: 0, what: 'x' });
    assert.throws(() => encodePlan(bad), /plan step umask: mask must be an integer/);
    const bad2 = new Plan();
    bad2.steps.push({ op: 'chdir', args: { path: 5 }, flags: 0, what: 'x' });
    assert.throws(() => encodePlan(bad2), /plan step chdir: path must be a string/);
  });

  test('an empty plan is a bare header; describePlan numbers the steps', () => {
    assert.deepEqual(decode(encodePlan(new Plan())).ops, []);
    assert.equal(encodePlan(new Plan()).length, 12);
    const plan = new Plan().add('setsid', {}, 'start a session').add('chdir', { path: '/' }, 'go home');
    assert.deepEqual(describePlan(plan), ['0: setsid start a session', '1: chdir go home']);
    assert.equal(plan.indexOf('chdir'), 1);
    assert.equal(plan.indexOf('exec'), -1);
  });

  test('a plan over the executor\'s limit is refused before anything starts, naming the step that weighs most', () => {
    const env = Array.from({ length: 17 }, (_, i) => `V${i}=${'x'.repeat(1024 * 1024)}`);
    const plan = new Plan().add('chdir', { path: '/' }, 'go home').add('exec', { argv: ['sh'], envv: env }, 'exec "sh"');
    assert.throws(
      () => encodePlan(plan),
      (err: unknown) =>
        isBerthError(err, 'plan_too_large') && /takes 17\.0 MiB, over the executor's limit of 16\.0 MiB; most of it is step 1 \(exec: exec "sh"\)/.test(err.message),
    );
    const fits = new Plan().add('exec', { argv: ['sh'], envv: env.slice(0, 15) }, 'exec "sh"');
    assert.ok(encodePlan(fits).length <= PLAN_MAX_BYTES);
  });
});

test('a NUL byte in a spec string, which would cut it short in the executor (env "A=1\\0LD_PRELOAD=..."), is refused as invalid input naming the step', () => {
  const plan = compileCreatePlan(createInput(spec((s) => s.process!.env!.push('A=1\0LD_PRELOAD=/tmp/x.so'))));
  assert.throws(
    () => encodePlan(plan),
    (err) => isBerthError(err, 'plan_nul_byte') && err.kind === 'invalid_argument' && /plan step exec: envv contains a NUL byte/.test(describeError(err)),
  );
});
