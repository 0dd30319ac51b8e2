/**
 * berth-init (native/init, `--init` of issue 10) as pid 1 of real busybox
 * containers run by berth-runtime, bind-mounted read-only at
 * /sbin/berth-init: it runs the command as pid 2, reaps orphans handed to
 * it, forwards the signals sent to the container and exits with the
 * command's code (128+N for a signal, 127/126 when it cannot be run).
 */
import assert from 'node:assert/strict';
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { makeBundle, REPO, RuntimeFixture, tempDir, uniqueId, type Result, waitFor } from '../../helpers/runtime.ts';

const INIT = join(REPO, 'build', 'berth-init');

interface Container {
  rt: RuntimeFixture;
  id: string;
  /** The host directory seen as /w inside. */
  shared: string;
  /** `run` in the foreground: its end is the container's. */
  exited: Promise<Result>;
}

/** Starts `berth-init -- ARGS...` as the container's process, in the foreground of a `run` not awaited yet. */
function runWithInit(t: TestContext, args: string[]): Container {
  const rt = new RuntimeFixture(t);
  const shared = tempDir(t, 'berth-init-');
  mkdirSync(join(shared, 'w'));
  const bundle = makeBundle(t, {
    args: ['/sbin/berth-init', '--', ...args],
    edit: (spec) => {
      spec.mounts!.push({ destination: '/sbin/berth-init', type: 'bind', source: INIT, options: ['bind', 'ro'] });
      spec.mounts!.push({ destination: '/w', type: 'bind', source: join(shared, 'w'), options: ['rbind', 'rw'] });
    },
  });
  mkdirSync(join(bundle.rootfs, 'sbin'));
  const id = rt.track(uniqueId('init'));
  const running = rt.run(['run', '--bundle', bundle.dir, id]);
  // With a deadline: an init that drops a signal fails the test instead of hanging it (cleanup deletes the container).
  let result: Result | undefined;
  void running.then((r) => (result = r));
  const exited = waitFor(`container ${id} to exit`, () => result);
  exited.catch(() => undefined);
  return { rt, id, shared: join(shared, 'w'), exited };
}

/** Writes a line to a fifo the container reads from, without blocking on it (O_RDWR never waits for a reader). */
function release(fifo: string): void {
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    writeSync(fd, 'go\n');
  } finally {
    closeSync(fd);
  }
}

/** The children of a host pid, with their pid inside the container's namespace and their state letter. */
function childrenOf(pid: number): { pid: number; nsPid: number; state: string }[] {
  const out: { pid: number; nsPid: number; state: string }[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      try {
        const status = readFileSync(`/proc/${c}/status`, 'utf8');
        out.push({ pid: Number(c), nsPid: Number(/^NSpid:.*\s(\d+)$/m.exec(status)?.[1]), state: /^State:\s+(\S)/m.exec(status)?.[1] ?? '?' });
      } catch {
        // Gone meanwhile: reaped.
      }
    }
  }
  return out;
}

describe('berth-init as pid 1 (root)', () => {
  test('berth-init is pid 1 and the command pid 2', async (t) => {
    const c = runWithInit(t, ['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; echo "$$"; tr "\\0" " " < /proc/2/cmdline; echo']);
    const r = await c.exited;
    assert.equal(r.code, 0, r.stderr);
    const [one, self, two] = r.stdout.split('\n');
    assert.equal(one?.trim(), '/sbin/berth-init -- sh -c ' + 'tr "\\0" " " < /proc/1/cmdline; echo; echo "$$"; tr "\\0" " " < /proc/2/cmdline; echo');
    assert.equal(self, '2');
    assert.match(two ?? '', /^sh -c /);
  });

  test('an orphan that exits is reaped, no zombie is left', async (t) => {
    const c = runWithInit(t, ['sh', '-c', [
      'mkfifo /w/go /w/done',
      // The grandchild outlives its parent (so it is handed to pid 1), then waits for the host.
      'sh -c \'sh -c "read x < /w/go; exit 3" & echo $! > /w/orphan.tmp; mv /w/orphan.tmp /w/orphan\'',
      'read x < /w/done',
      'grep -l "^State:.*Z" /proc/[0-9]*/status; echo end',
    ].join('; ')]);
    const orphanNs = await waitFor('the orphan pid', () => (existsSync(join(c.shared, 'orphan')) ? Number(readFileSync(join(c.shared, 'orphan'), 'utf8')) : undefined));
    const { pid: init } = await waitFor('the container running', async () => {
      const s = await c.rt.state(c.id).catch(() => undefined);
      return s?.status === 'running' && s.pid !== undefined ? { pid: s.pid } : undefined;
    });
    const orphan = await waitFor('the orphan handed to berth-init', () => childrenOf(init).find((p) => p.nsPid === orphanNs));
    release(join(c.shared, 'go'));
    // A zombie keeps its /proc entry until its parent (berth-init) waits for it.
    await waitFor(`orphan ${orphan.pid} reaped`, () => (existsSync(`/proc/${orphan.pid}`) ? undefined : true));
    assert.deepEqual(childrenOf(init).filter((p) => p.state === 'Z'), []);
    release(join(c.shared, 'done'));
    const r = await c.exited;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'end\n', 'zombies seen from inside the container');
  });

  test('SIGTERM sent to the container reaches the command; berth-init exits with its code', async (t) => {
    const c = runWithInit(t, ['sh', '-c', 'trap "echo term > /w/got; exit 42" TERM; echo > /w/ready; while :; do sleep 100 & wait $!; done']);
    await waitFor('the trap set', () => (existsSync(join(c.shared, 'ready')) ? true : undefined));
    const k = await c.rt.run(['kill', c.id, 'TERM']);
    assert.equal(k.code, 0, k.stderr);
    const r = await c.exited;
    assert.equal(r.code, 42, r.stderr);
    assert.equal(readFileSync(join(c.shared, 'got'), 'utf8'), 'term\n');
  });

  test('a command killed by signal N gives 128+N', async (t) => {
    const r = await runWithInit(t, ['sh', '-c', 'kill -USR1 $$']).exited;
    assert.equal(r.code, 128 + 10, r.stderr);
  });

  test('a missing command gives 127 and an error naming it; one that is not executable 126', async (t) => {
    const missing = await runWithInit(t, ['no-such-command']).exited;
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /berth-init: exec no-such-command: No such file or directory/);
    const notExec = await runWithInit(t, ['/etc/passwd']).exited;
    assert.equal(notExec.code, 126);
    assert.match(notExec.stderr, /berth-init: exec \/etc\/passwd: Permission denied/);
  });

  test('berth-init is linked statically (images may have no libc): no PT_INTERP program header', () => {
    const elf = readFileSync(INIT);
    assert.equal(elf.toString('latin1', 1, 4), 'ELF');
    const [phoff, phentsize, phnum] = [Number(elf.readBigUInt64LE(32)), elf.readUInt16LE(54), elf.readUInt16LE(56)];
    const types = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    assert.ok(types.length > 0 && !types.includes(3), `program header types ${types.join(',')}`);
  });
});
