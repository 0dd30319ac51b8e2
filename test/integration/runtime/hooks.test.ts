/**
 * OCI hooks run by berth-runtime (root): every phase gets the state on
 * stdin, its arguments and environment exactly, runs in the right
 * namespaces and in the right order; a failing or slow hook before the
 * container runs fails create and leaves nothing behind, and poststart and
 * poststop failures are warnings.
 *
 * The hooks are busybox's sh, started by the name "sh" as argv[0] (busybox
 * picks the applet from it, so a wrong argv[0] would not even run), and
 * read their own /proc/self/cmdline and environ with shell builtins so
 * what they log is what the runtime passed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Hook, Hooks } from '../../../src/oci/runtime-spec.ts';
import { berthOnly, BUSYBOX, cgroupLeftovers, makeBundle, byRuntime, tempDir, type TestBundle, uniqueId, waitFor, RuntimeFixture } from '../../helpers/runtime.ts';

const PHASES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Phase = (typeof PHASES)[number];

/** Appends one record (phase: $0, namespaces, argv, env, stdin) to the log named by $1, in one write. */
const RECORD = [
  'nl=$(printf "\\n_"); nl=${nl%_}',
  'r="phase=$0"',
  'r="$r${nl}uts=$(readlink /proc/self/ns/uts)"',
  'r="$r${nl}mnt=$(readlink /proc/self/ns/mnt)"',
  'while IFS= read -r -d "" v; do r="$r${nl}arg=$v"; done < /proc/self/cmdline',
  'while IFS= read -r -d "" v; do r="$r${nl}env=$v"; done < /proc/self/environ',
  'r="$r${nl}stdin=$(cat)"',
  'printf "%s\\n--\\n" "$r" >> "$1"',
].join('; ');

interface HookRecord {
  phase: string;
  uts: string;
  mnt: string;
  args: string[];
  env: string[];
  state: { ociVersion: string; id: string; status: string; pid?: number; bundle: string };
}

function parseLog(text: string): HookRecord[] {
  return text
    .split('\n--\n')
    .filter((r) => r.trim())
    .map((rec) => {
      const out: HookRecord = { phase: '', uts: '', mnt: '', args: [], env: [], state: { ociVersion: '', id: '', status: '', bundle: '' } };
      for (const line of rec.split('\n')) {
        const eq = line.indexOf('=');
        const key = line.slice(0, eq);
        const value = line.slice(eq + 1);
        if (key === 'phase') out.phase = value;
        else if (key === 'uts') out.uts = value;
        else if (key === 'mnt') out.mnt = value;
        else if (key === 'arg') out.args.push(value);
        else if (key === 'env') out.env.push(value);
        else if (key === 'stdin') out.state = JSON.parse(value) as HookRecord['state'];
      }
      return out;
    });
}

const HOOK_ENV = ['HOOK_A=1', 'HOOK_B=two words'];

/** A recording hook of `phase`; `log` is the log's path where the hook runs. */
function recordingHook(phase: Phase, busybox: string, log: string, extra: Partial<Hook> = {}): Hook {
  return { path: busybox, args: ['sh', '-c', RECORD, phase, log, 'an argument with spaces'], env: HOOK_ENV, ...extra };
}

interface HookSetup {
  rt: RuntimeFixture;
  bundle: TestBundle;
  id: string;
  logDir: string;
  log: string;
}

/**
 * A bundle with `hooks(log)` and a host directory for the log, bound at
 * /hooklog in the container for the hooks that run there.
 */
function setup(t: TestContext, args: string[], hooks: (hostLog: string, containerLog: string) => Hooks): HookSetup {
  const rt = new RuntimeFixture(t);
  const logDir = tempDir(t, 'berth-hooklog-');
  const log = join(logDir, 'log');
  const bundle = makeBundle(t, {
    args,
    edit: (spec) => {
      spec.hooks = hooks(log, '/hooklog/log');
      spec.mounts!.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['bind'] });
    },
  });
  return { rt, bundle, id: rt.track(uniqueId()), logDir, log };
}

function readLog(log: string): HookRecord[] {
  try {
    return parseLog(readFileSync(log, 'utf8'));
  } catch {
    return [];
  }
}

function failing(message: string, status: number): Hook {
  return { path: BUSYBOX, args: ['sh', '-c', `echo ${message} >&2; exit ${status}`] };
}

/** Processes whose command line contains `marker` (to prove a timed-out hook is gone). */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

async function assertNothingLeft(rt: RuntimeFixture, id: string): Promise<void> {
  assert.ok(!rt.leftovers().includes(id), `state of ${id} left behind`);
  assert.deepEqual(cgroupLeftovers(id), []);
  const listed = await rt.run(['list', '--format', 'json']);
  assert.ok(!listed.stdout.includes(id), listed.stdout);
}

/** runtime-spec runs poststart after the program started; runc before 1.2 runs it at create. */
const RUNC_POSTSTART = 'runc 1.1 runs poststart hooks at create, before start (fixed in runc 1.2)';

describe('berth-runtime hooks (root)', () => {
  test('every phase: state on stdin, args and env exactly, right namespaces, right order', { skip: berthOnly(RUNC_POSTSTART) }, async (t) => {
    const { rt, bundle, id, log } = setup(t, ['sleep', '1000'], (hostLog, containerLog) => ({
      prestart: [recordingHook('prestart', BUSYBOX, hostLog)],
      createRuntime: [recordingHook('createRuntime', BUSYBOX, hostLog)],
      // Before pivot_root: the runtime's paths, in the container's namespaces.
      createContainer: [recordingHook('createContainer', BUSYBOX, hostLog)],
      // After pivot_root: a path in the container.
      startContainer: [recordingHook('startContainer', '/bin/busybox', containerLog)],
      poststart: [recordingHook('poststart', BUSYBOX, hostLog)],
      poststop: [recordingHook('poststop', BUSYBOX, hostLog)],
    }));
    const created = await rt.run(['create', '--bundle', bundle.dir, id]);
    assert.equal(created.code, 0, created.stderr);
    const { pid } = await rt.state(id);
    assert.ok(pid);
    const containerUts = readlinkSync(`/proc/${pid}/ns/uts`);
    const containerMnt = readlinkSync(`/proc/${pid}/ns/mnt`);
    assert.deepEqual(readLog(log).map((r) => r.phase), ['prestart', 'createRuntime', 'createContainer']);

    const started = await rt.run(['start', id]);
    assert.equal(started.code, 0, started.stderr);
    await waitFor('startContainer and poststart', () => (readLog(log).length === 5 ? true : undefined));
    assert.equal((await rt.run(['kill', id, 'KILL'])).code, 0);
    await waitFor('the container to stop', async () => ((await rt.state(id)).status === 'stopped' ? true : undefined));
    const deleted = await rt.run(['delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);

    const records = readLog(log);
    assert.deepEqual(records.map((r) => r.phase), [...PHASES]);
    const hostUts = readlinkSync('/proc/self/ns/uts');
    const hostMnt = readlinkSync('/proc/self/ns/mnt');
    const inContainer = new Set<string>(['createContainer', 'startContainer']);
    const expectedStatus: Record<string, string> = {
      prestart: 'creating',
      createRuntime: 'creating',
      createContainer: 'creating',
      startContainer: 'created',
      poststart: 'running',
      poststop: 'stopped',
    };
    for (const r of records) {
      const where = inContainer.has(r.phase) ? 'container' : 'host';
      assert.equal(r.uts, where === 'container' ? containerUts : hostUts, `${r.phase}: uts namespace`);
      assert.equal(r.mnt, where === 'container' ? containerMnt : hostMnt, `${r.phase}: mount namespace`);
      const logPath = r.phase === 'startContainer' ? '/hooklog/log' : log;
      assert.deepEqual(r.args, ['sh', '-c', RECORD, r.phase, logPath, 'an argument with spaces'], `${r.phase}: argv`);
      assert.deepEqual(r.env, HOOK_ENV, `${r.phase}: env`);
      assert.equal(r.state.id, id, `${r.phase}: state id`);
      assert.equal(r.state.bundle, bundle.dir, `${r.phase}: state bundle`);
      assert.equal(r.state.status, expectedStatus[r.phase], `${r.phase}: state status`);
      assert.equal(r.state.ociVersion, bundle.spec.ociVersion);
      if (r.phase === 'poststop') assert.equal(r.state.pid, undefined);
      else assert.equal(r.state.pid, pid, `${r.phase}: state pid`);
    }
  });

  test('poststart runs after a slow startContainer hook, once the program is exec\'d', { skip: berthOnly(RUNC_POSTSTART) }, async (t) => {
    const { rt, bundle, id, logDir } = setup(t, ['sleep', '1000'], (hostLog) => ({
      // The hook takes its time on purpose: poststart must wait for it and for the exec.
      startContainer: [{ path: '/bin/busybox', args: ['sh', '-c', 'sleep 0.3; echo startContainer >> /hooklog/order'] }],
      poststart: [
        {
          path: BUSYBOX,
          args: ['sh', '-c', 's=$(cat); pid=$(echo "$s" | sed -n "s/.*\\"pid\\":\\([0-9]*\\).*/\\1/p"); { echo poststart; tr "\\0" " " < /proc/$pid/cmdline; echo; } >> "$0/order"', dirname(hostLog)],
        },
      ],
    }));
    assert.equal((await rt.run(['create', '--bundle', bundle.dir, id])).code, 0);
    const started = await rt.run(['start', id]);
    assert.equal(started.code, 0, started.stderr);
    // start returned, so poststart is done.
    assert.equal(readFileSync(join(logDir, 'order'), 'utf8'), 'startContainer\npoststart\nsleep 1000 \n');
  });

  test('several hooks of one phase run in their order', async (t) => {
    const { rt, bundle, id, log } = setup(t, ['true'], (hostLog) => ({
      prestart: [recordingHook('prestart', BUSYBOX, hostLog, { args: ['sh', '-c', RECORD, 'first', hostLog] }), recordingHook('prestart', BUSYBOX, hostLog, { args: ['sh', '-c', RECORD, 'second', hostLog] })],
      createContainer: [recordingHook('createContainer', BUSYBOX, hostLog, { args: ['sh', '-c', RECORD, 'third', hostLog] }), recordingHook('createContainer', BUSYBOX, hostLog, { args: ['sh', '-c', RECORD, 'fourth', hostLog] })],
    }));
    const r = await rt.run(['run', '--bundle', bundle.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readLog(log).map((x) => x.phase), ['first', 'second', 'third', 'fourth']);
  });

  for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
    test(`a failing ${phase} hook fails create, names the hook and leaves nothing`, async (t) => {
      const { rt, bundle, id, log } = setup(t, ['touch', '/hooklog/program-ran'], (hostLog) => ({
        [phase]: [recordingHook(phase, BUSYBOX, hostLog), failing(`${phase}-says-no`, 3), recordingHook(phase, BUSYBOX, hostLog)],
      }));
      const r = await rt.run(['create', '--bundle', bundle.dir, id]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, byRuntime(new RegExp(`${phase} hook 1 "${BUSYBOX}".*exited with status 3: ${phase}-says-no`), new RegExp(`error running hook #1: .*exit status 3, .*stderr: ${phase}-says-no`)));
      // The first hook ran, the one after the failure did not.
      assert.deepEqual(readLog(log).map((x) => x.phase), [phase]);
      await assertNothingLeft(rt, id);
    });
  }

  for (const phase of ['prestart', 'createContainer'] as const) {
    test(`a ${phase} hook past its timeout is killed and reported`, async (t) => {
      const marker = `${987 + PHASES.indexOf(phase)}.${process.pid % 1000}`;
      const { rt, bundle, id } = setup(t, ['true'], () => ({
        [phase]: [{ path: BUSYBOX, args: ['sh', '-c', `echo waiting; exec sleep ${marker}`], timeout: 1 }],
      }));
      const r = await rt.run(['create', '--bundle', bundle.dir, id]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, byRuntime(new RegExp(`${phase} hook 0 "${BUSYBOX}".*timed out after (1 s|1000 ms): waiting`), /error running hook #0: hook ran past specified timeout of 1.0s/));
      await waitFor('the hook to be gone', () => (processesWith(`sleep\0${marker}`).length === 0 ? true : undefined));
      await assertNothingLeft(rt, id);
    });
  }

  test('a failing startContainer hook stops the program from running', async (t) => {
    const { rt, bundle, id, logDir } = setup(t, ['touch', '/hooklog/program-ran'], () => ({
      startContainer: [{ path: '/bin/busybox', args: ['sh', '-c', 'echo start-says-no >&2; exit 4'] }],
    }));
    const created = await rt.run(['create', '--bundle', bundle.dir, id]);
    assert.equal(created.code, 0, created.stderr);
    await rt.run(['start', id]);
    await waitFor('the container to stop', async () => ((await rt.state(id)).status === 'stopped' ? true : undefined));
    assert.ok(!readdirSync(logDir).includes('program-ran'), 'the program ran despite the failed hook');
  });

  test('poststart and poststop failures are warnings: start and delete succeed', { skip: berthOnly('runc 1.1 fails start when a poststart hook fails, where runtime-spec asks for a warning') }, async (t) => {
    const { rt, bundle, id, log } = setup(t, ['sleep', '1000'], (hostLog) => ({
      poststart: [failing('poststart-says-no', 5), recordingHook('poststart', BUSYBOX, hostLog)],
      poststop: [failing('poststop-says-no', 6), recordingHook('poststop', BUSYBOX, hostLog)],
    }));
    assert.equal((await rt.run(['create', '--bundle', bundle.dir, id])).code, 0);
    const started = await rt.run(['start', id]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stderr, /warning: .*poststart hook 0 ".*exited with status 5: poststart-says-no/);
    assert.equal((await rt.state(id)).status, 'running');
    const deleted = await rt.run(['delete', '--force', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, /warning: .*poststop hook 0 ".*exited with status 6: poststop-says-no/);
    // The hooks after the failing ones still ran.
    assert.deepEqual(readLog(log).map((r) => r.phase), ['poststart', 'poststop']);
    assert.ok(!rt.leftovers().includes(id));
  });

  test('a hook that cannot be executed fails create by name', async (t) => {
    const missing = join(tempDir(t), 'no-such-hook');
    mkdirSync(join(missing, '..'), { recursive: true });
    const { rt, bundle, id } = setup(t, ['true'], () => ({ createRuntime: [{ path: missing }] }));
    const r = await rt.run(['create', '--bundle', bundle.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(new RegExp(`createRuntime hook 0 "${missing}"`), new RegExp(`error running hook #0: fork/exec ${missing}: no such file`)));
    await assertNothingLeft(rt, id);
  });
});
