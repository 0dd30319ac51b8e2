/** berthd's socket file: its mode from the start, a stale file replaced, a live socket or another file refused. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { answers, groupId, listenUnix } from '../../../src/api/socket.ts';
import { isBerthError } from '../../../src/errors.ts';
import { onCleanup, tempDir } from '../../helpers/cleanup.ts';
import { until } from '../../helpers/api.ts';

function server(t: TestContext): Server {
  const s = createServer((_req, res) => res.end('ok'));
  onCleanup(t, () => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())));
  return s;
}

test('the socket is 0660 and nothing of its making is left beside it', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'run', 'berth.sock');
  const l = await listenUnix(server(t), path);
  const st = statSync(path);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
  assert.deepEqual(readdirSync(join(dir, 'run')), ['berth.sock']);
  assert.equal(await answers(path), true);
  l.remove();
  assert.deepEqual(readdirSync(join(dir, 'run')), []);
});

test('a stale socket file (its daemon killed) is replaced; a live one is refused', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'berth.sock');
  // A process that listens and is then SIGKILLed leaves its socket file with nothing behind it.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(t, () => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await until('the child listening', () => out.includes('up'));
  assert.equal(await answers(path), true);
  const live = listenUnix(server(t), path);
  await assert.rejects(live, (err) => isBerthError(err, 'daemon_socket_in_use') && err.message.includes('another daemon answers'));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(statSync(path).isSocket(), 'the killed listener left its file');
  assert.equal(await answers(path), false);
  await listenUnix(server(t), path);
  assert.equal(await answers(path), true);
  assert.equal(statSync(path).mode & 0o777, 0o660);
});

test('a path that is not a socket is refused, and left alone', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'berth.sock');
  writeFileSync(path, 'precious');
  await assert.rejects(listenUnix(server(t), path), (err) => isBerthError(err, 'daemon_socket_in_use') && err.message.includes('is not a socket'));
  assert.ok(statSync(path).isFile());
});

test('a group\'s id is read from the group file by its exact name', (t) => {
  const file = join(tempDir(t), 'group');
  writeFileSync(file, 'root:x:0:\nberth:x:998:alice,bob\nberthd:x:997:\n');
  assert.equal(groupId('berth', file), 998);
  assert.equal(groupId('berthd', file), 997);
  assert.equal(groupId('bert', file), undefined);
  assert.equal(groupId('berth', join(tempDir(t), 'none')), undefined);
});
