/** spawnProgram (posix_spawn): what the child gets, as read from outside it (/proc) and from its output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { reapSoon, sealedProgram, spawnProgram } from '../../../src/sys/spawn.ts';
import { tempDir } from './helpers.ts';

function readAll(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.setEncoding('utf8').on('data', (d: string) => (text += d)).once('end', () => resolve(text)).once('error', reject);
  });
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !check(); await new Promise((r) => setImmediate(r))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

test('the child has exactly the descriptors asked for: /dev/null, socket pairs, an fd passed through; no signal blocked or ignored', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'plan'), 'the plan');
  const planFd = openSync(join(dir, 'plan'), 'r');
  t.after(() => closeSync(planFd));
  // sleep opens nothing of its own: what /proc shows is what it was given.
  const { pid, sockets } = spawnProgram('/bin/sleep', ['sleep', '60'], [null, null, 'socket', 'socket', 'socket', planFd]);
  t.after(() => {
    for (const s of sockets.values()) s.destroy();
    process.kill(pid, 'SIGKILL');
    reapSoon(pid);
  });
  assert.deepEqual([...sockets.keys()].sort(), [2, 3, 4]);
  const fds = readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
  // This process's other fds are close-on-exec; one above 200 is the test harness's own, leaked to us too.
  assert.deepEqual(fds.filter((fd) => fd < 200), [0, 1, 2, 3, 4, 5]);
  assert.equal(readlinkSync(`/proc/${pid}/fd/0`), '/dev/null');
  assert.equal(readlinkSync(`/proc/${pid}/fd/1`), '/dev/null');
  for (const fd of [2, 3, 4]) assert.match(readlinkSync(`/proc/${pid}/fd/${fd}`), /^socket:/);
  assert.equal(readlinkSync(`/proc/${pid}/fd/5`), join(dir, 'plan'));
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // Node.js ignores SIGPIPE; the child must not inherit that.
  assert.match(status, /^SigBlk:\s+0+$/m);
  assert.match(status, /^SigIgn:\s+0+$/m);
});

test('the socket pairs carry data both ways; the child is reaped once it exits', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'plan'), 'the plan');
  const planFd = openSync(join(dir, 'plan'), 'r');
  t.after(() => closeSync(planFd));
  const { pid, sockets } = spawnProgram('/bin/sh', ['sh', '-c', 'head -n 1 <&4 >&2; cat <&5 >&3'], [null, null, 'socket', 'socket', 'socket', planFd]);
  t.after(() => {
    for (const s of sockets.values()) s.destroy();
  });
  const out = readAll(sockets.get(3)!);
  const err = readAll(sockets.get(2)!);
  sockets.get(4)!.write('hello\n');
  assert.equal(await out, 'the plan');
  assert.equal(await err, 'hello\n');
  reapSoon(pid);
  await until('the child to be reaped', () => gone(pid));
});

test('the child starts with an empty environment', async (t) => {
  const { pid, sockets } = spawnProgram('/usr/bin/env', ['env'], [null, 'socket', null]);
  t.after(() => reapSoon(pid));
  assert.equal(await readAll(sockets.get(1)!), '');
});

test('a program that is not there: ENOENT naming it, and no descriptor left open', () => {
  const before = readdirSync('/proc/self/fd').length;
  assert.throws(() => spawnProgram('/nonexistent/berth-monitor', ['berth-monitor'], [null, null, 'socket', 'socket']), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ENOENT');
    assert.match(err.message, /posix_spawn '\/nonexistent\/berth-monitor'/);
    return true;
  });
  assert.equal(readdirSync('/proc/self/fd').length, before);
});

test('fds passed through at their own number, or swapped, land where asked', async (t) => {
  const dir = tempDir(t);
  const [a, b, own] = ['a', 'b', 'own'].map((name) => {
    writeFileSync(join(dir, name), `${name} `);
    return openSync(join(dir, name), 'r');
  }) as [number, number, number];
  t.after(() => [a, b, own].forEach((fd) => closeSync(fd)));
  const fds: (null | 'socket' | number)[] = Array.from({ length: Math.max(a, b, own) + 1 }, () => null);
  fds[1] = 'socket';
  fds[a] = b;
  fds[b] = a;
  fds[own] = own;
  const { pid, sockets } = spawnProgram('/bin/cat', ['cat', `/dev/fd/${a}`, `/dev/fd/${b}`, `/dev/fd/${own}`], fds);
  t.after(() => reapSoon(pid));
  assert.equal(await readAll(sockets.get(1)!), 'b a own ');
});

test('sealedProgram: one sealed in-memory copy, runnable, not writable, made anew when the file changes', async (t) => {
  const dir = tempDir(t);
  const program = join(dir, 'prog');
  writeFileSync(program, readFileSync('/bin/echo'), { mode: 0o755 });
  const first = sealedProgram(program);
  assert.match(first, new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
  assert.equal(sealedProgram(program), first, 'the same file: the same copy');
  assert.match(readlinkSync(first), /^\/memfd:berth-exec/);
  const run = spawnProgram(first, ['echo', 'from the copy'], [null, 'socket', null]);
  t.after(() => reapSoon(run.pid));
  assert.equal(await readAll(run.sockets.get(1)!), 'from the copy\n');
  // Sealed against writes: even this process cannot change it.
  const writable = openSync(first, 'r+');
  t.after(() => closeSync(writable));
  assert.throws(() => writeSync(writable, 'x'), (err: Error & { code?: string }) => err.code === 'EPERM');
  writeFileSync(program, readFileSync('/bin/true'), { mode: 0o755 });
  const second = sealedProgram(program);
  assert.notEqual(second, first);
  assert.equal(readFileSync(second).length, readFileSync('/bin/true').length);
});
