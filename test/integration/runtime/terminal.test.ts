/**
 * Terminals and stdio of berth-runtime containers (root): the pty master
 * sent over --console-socket (received by test/helpers/recvtty.c, as
 * runc's recvtty does), its size, input typed into it, the foreground run
 * that proxies the terminal itself, and the stdio a detached container
 * keeps from the runtime that started it.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startRecvtty } from '../../helpers/recvtty.ts';
import { berthOnly, byRuntime, makeBundle, RuntimeFixture, tempDir, uniqueId, waitFor } from '../../helpers/runtime.ts';

describe('berth-runtime terminal and stdio (root)', () => {
  test('--console-socket: the master arrives over SCM_RIGHTS; the slave is the controlling terminal, sized as asked', async (t) => {
    const rt = new RuntimeFixture(t);
    const tty = await startRecvtty(t);
    const bundle = makeBundle(t, {
      args: ['sh', '-c', 'stty size; tty; stat -c "%t:%T" /dev/console; for fd in 0 1 2; do readlink /proc/self/fd/$fd; done; cut -d" " -f7 /proc/1/stat; true'],
      edit: (spec) => {
        spec.process!.terminal = true;
        spec.process!.consoleSize = { height: 33, width: 99 };
      },
    });
    const id = rt.track(uniqueId());
    const r = await rt.run(['run', '--detach', '--console-socket', tty.socket, '--bundle', bundle.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await tty.exited, 0, tty.log());
    assert.match(tty.log(), /received fd char-device/);
    // A terminal's output: every line ends in \r\n.
    const lines = tty.output().split('\r\n');
    assert.equal(lines[0], '33 99');
    assert.match(lines[1] ?? '', /^\/dev\/pts\/\d+$/);
    // /dev/console is the same pseudo-terminal (major 136 = 0x88).
    assert.match(lines[2] ?? '', /^88:\d+$/);
    assert.deepEqual(lines.slice(3, 6), [lines[1], lines[1], lines[1]]);
    // The controlling terminal of pid 1 (tty_nr in /proc/1/stat) is that pseudo-terminal: 136:N.
    assert.equal(Number(lines[6]), 136 * 256 + Number(lines[1]?.slice('/dev/pts/'.length)));
  });

  test('--console-socket: input written to the master reaches the process, with the terminal\'s echo', async (t) => {
    const rt = new RuntimeFixture(t);
    const tty = await startRecvtty(t, { stdin: true });
    const bundle = makeBundle(t, {
      args: ['sh', '-c', 'echo ready; read line; echo "got:$line"'],
      edit: (spec) => {
        spec.process!.terminal = true;
      },
    });
    const id = rt.track(uniqueId());
    const r = await rt.run(['run', '--detach', '--console-socket', tty.socket, '--bundle', bundle.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('the prompt', () => (tty.output().includes('ready\r\n') ? true : undefined));
    tty.write('hello there\n');
    assert.equal(await tty.exited, 0, tty.log());
    assert.equal(tty.output(), 'ready\r\nhello there\r\ngot:hello there\r\n');
  });

  test('run in the foreground with a terminal and no console socket proxies the terminal', { skip: berthOnly('runc proxies only a terminal of its own (it opens /dev/tty)') }, async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, {
      args: ['sh', '-c', 'tty; read line; echo "got:$line"; exit 3'],
      edit: (spec) => {
        spec.process!.terminal = true;
      },
    });
    const r = await rt.runBundle(bundle, { input: 'typed\n' });
    assert.equal(r.code, 3, r.stderr);
    // The terminal echoes the input whenever it arrives, so only the order of the program's own lines is fixed.
    assert.match(r.stdout, /(^|\r\n)\/dev\/pts\/\d+\r\n/);
    assert.match(r.stdout, /(^|\r\n)typed\r\n/);
    assert.match(r.stdout, /\r\ngot:typed\r\n$/);
    assert.ok(!/[^\r]\n/.test(r.stdout), 'a line without \\r');
    assert.deepEqual(rt.leftovers(), []);
  });

  test('a terminal in a detached container needs --console-socket', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, {
      edit: (spec) => {
        spec.process!.terminal = true;
      },
    });
    const id = rt.track(uniqueId());
    const r = await rt.run(['create', '--bundle', bundle.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(/process\.terminal: a terminal needs --console-socket/, /cannot allocate tty if runc will detach without setting console socket/));
    assert.deepEqual(rt.leftovers(), []);
  });

  test('a console socket nobody listens on fails create, naming it', async (t) => {
    const rt = new RuntimeFixture(t);
    const socket = join(tempDir(t), 'nobody.sock');
    const bundle = makeBundle(t, {
      edit: (spec) => {
        spec.process!.terminal = true;
      },
    });
    const id = rt.track(uniqueId());
    const r = await rt.run(['create', '--console-socket', socket, '--bundle', bundle.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, byRuntime(new RegExp(`connect to the console socket "${socket}".*no such file or directory`), new RegExp(`dial unix ${socket}: connect: no such file or directory`)));
    assert.deepEqual(rt.leftovers(), []);
  });

  test('without a terminal the process has no controlling terminal', async (t) => {
    const rt = new RuntimeFixture(t);
    const bundle = makeBundle(t, { args: ['sh', '-c', 'tty; echo "rc=$?"; ls /dev/console 2>&1; true'] });
    const r = await rt.runBundle(bundle);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^not a tty\nrc=1\n.*No such file or directory\n$/);
  });

  test('a detached container keeps the stdio the runtime was given', async (t) => {
    const rt = new RuntimeFixture(t);
    const dir = tempDir(t);
    writeFileSync(join(dir, 'in'), 'from stdin\n');
    const fds = [openSync(join(dir, 'in'), 'r'), openSync(join(dir, 'out'), 'w'), openSync(join(dir, 'err'), 'w')] as const;
    t.after(() => fds.forEach((fd) => closeSync(fd)));
    const bundle = makeBundle(t, { args: ['sh', '-c', 'cat; echo to-stdout; echo to-stderr >&2'] });
    const id = rt.track(uniqueId());
    const r = await rt.run(['run', '--detach', '--bundle', bundle.dir, id], { stdio: [fds[0], fds[1], fds[2]] });
    assert.equal(r.code, 0);
    await waitFor('the container to finish', async () => ((await rt.state(id)).status === 'stopped' ? true : undefined));
    assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'from stdin\nto-stdout\n');
    assert.equal(readFileSync(join(dir, 'err'), 'utf8'), 'to-stderr\n');
  });
});
