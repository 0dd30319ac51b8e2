/**
 * The watchdog's limits: exec_timeout kills the function's whole process
 * group (504, or a cut stream once output was sent), max_inflight answers
 * 429 past its count and /_/ready says 503 meanwhile.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { request, script, startWatchdog, until } from './watchdog.ts';

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

test('exec_timeout kills the function and what it started (504), then serves the next request', async (t) => {
  const fn = script(t, '');
  // The function starts a sleep in the background and waits for it: both must die.
  writeFileSync(join(fn.dir, 'fn.sh'), `sleep 60 &\necho "$$ $!" > ${fn.dir}/pids\nwait\n`);
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, exec_timeout: '300ms' });
  const r = await request(wd.port, '/');
  assert.equal(r.status, 504);
  assert.equal(r.body, 'exec_timeout of 300ms exceeded\n');
  const pids = readFileSync(join(fn.dir, 'pids'), 'utf8').trim().split(' ').map(Number);
  assert.equal(pids.length, 2);
  await until('the function and its sleep to be gone', () => (pids.every((p) => !alive(p)) ? true : undefined));
  assert.match(wd.log(), /Function was killed by exec_timeout: 300ms/);
  writeFileSync(join(fn.dir, 'fn.sh'), 'echo fine\n');
  assert.equal((await request(wd.port, '/')).body, 'fine\n');
});

test('exec_timeout once output was streamed: the response is cut, not completed', async (t) => {
  const fn = script(t, 'echo partial\nexec sleep 60\n');
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, exec_timeout: '1s' });
  await assert.rejects(request(wd.port, '/'), /aborted|ECONNRESET|socket hang up/);
});

test('max_inflight: the request past the limit gets 429 and /_/ready 503 until one finishes', async (t) => {
  const fn = script(t, '');
  writeFileSync(join(fn.dir, 'fn.sh'), `touch ${fn.dir}/started\nwhile [ ! -e ${fn.dir}/go ]; do sleep 0.01; done\necho done\n`);
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, max_inflight: '1' });
  assert.equal((await request(wd.port, '/_/ready')).status, 200);
  const first = request(wd.port, '/slow');
  await until('the first request to run', () => (existsSync(join(fn.dir, 'started')) ? true : undefined));
  const second = await request(wd.port, '/second', { body: 'ignored' });
  assert.equal(second.status, 429);
  assert.equal((await request(wd.port, '/_/ready')).status, 503);
  assert.equal((await request(wd.port, '/_/health')).status, 200);
  writeFileSync(join(fn.dir, 'go'), '');
  assert.equal((await first).body, 'done\n');
  await until('ready again', async () => ((await request(wd.port, '/_/ready')).status === 200 ? true : undefined));
  assert.equal((await request(wd.port, '/third')).status, 200);
  assert.match(wd.log(), /POST \/second 429/);
});
