/**
 * What a forked function sees and what it answers with: the classic
 * watchdog's CGI-style variables (Http_Method, Http_Path, Http_Query, one
 * Http_<Header> per header in Go's canonical form), the function's own
 * environment, only stdin/stdout/stderr as descriptors, content_type,
 * combine_output and prefix_logs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request, script, startWatchdog, until } from './watchdog.ts';

function vars(body: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of body.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !m.has(line.slice(0, eq))) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

test('the CGI variables of a request, as the classic watchdog names them, and the function\'s own environment', async (t) => {
  const wd = await startWatchdog(t, { fprocess: 'env', FUNCTION_SETTING: 'kept' });
  const r = await request(wd.port, '/some%20path/x?a=1&b=two', {
    body: 'hello',
    headers: { 'Content-Type': 'application/json', 'X-Call-Id': 'call-123', 'x-FOO-bar': 'baz', 'Method': 'SPOOFED', 'Content-Length': '5' },
  });
  assert.equal(r.status, 200);
  const v = vars(r.body);
  assert.equal(v.get('Http_Method'), 'POST');
  assert.equal(v.get('Http_Path'), '/some path/x');
  assert.equal(v.get('Http_Query'), 'a=1&b=two');
  assert.equal(v.get('Http_Content_Type'), 'application/json');
  assert.equal(v.get('Http_Content_Length'), '5');
  assert.equal(v.get('Http_X_Call_Id'), 'call-123');
  assert.equal(v.get('Http_X_Foo_Bar'), 'baz');
  assert.equal(v.get('FUNCTION_SETTING'), 'kept');
  // Go keeps Host out of the header map: the classic watchdog has no Http_Host.
  assert.equal(v.has('Http_Host'), false);
  // A header named like one of the request's own variables does not replace it.
  assert.equal(r.body.split('\n').filter((l) => l.startsWith('Http_Method=')).length, 1);
  // The response's type is the request's when content_type is unset.
  assert.equal(r.headers['content-type'], 'application/json');
});

test('a chunked upload: Http_Transfer_Encoding=chunked and Http_Content_Length=-1, the body whole on stdin', async (t) => {
  const fn = script(t, 'env | grep -e ^Http_Transfer_Encoding= -e ^Http_Content_Length=\nwc -c\n');
  const wd = await startWatchdog(t, { fprocess: fn.fprocess, mode: 'serializing' });
  const r = await request(wd.port, '/', { body: ['a'.repeat(1000), 'b'.repeat(24000), 'c'] });
  assert.equal(r.status, 200);
  const lines = r.body.trim().split('\n').map((l) => l.trim()).sort();
  assert.deepEqual(lines, ['25001', 'Http_Content_Length=-1', 'Http_Transfer_Encoding=chunked']);
});

test('content_type sets every response\'s type; without it and the request\'s, text/plain', async (t) => {
  const set = await startWatchdog(t, { fprocess: 'cat', content_type: 'application/x-berth' });
  assert.equal((await request(set.port, '/', { body: 'x', headers: { 'Content-Type': 'text/html' } })).headers['content-type'], 'application/x-berth');
  const unset = await startWatchdog(t, { fprocess: 'cat' });
  assert.equal((await request(unset.port, '/', { body: 'x' })).headers['content-type'], 'text/plain');
});

test('stderr goes to the log, prefixed "stderr: " (prefix_logs), and into the response only with combine_output', async (t) => {
  const fn = script(t, 'echo out\necho err-line >&2\n');
  const plain = await startWatchdog(t, { fprocess: fn.fprocess });
  assert.equal((await request(plain.port, '/')).body, 'out\n');
  await until('the stderr line in the log', () => (/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d stderr: err-line$/m.test(plain.log()) ? true : undefined));

  const bare = await startWatchdog(t, { fprocess: fn.fprocess, prefix_logs: 'false' });
  await request(bare.port, '/');
  await until('the bare stderr line in the log', () => (/^err-line$/m.test(bare.log()) ? true : undefined));

  const combined = await startWatchdog(t, { fprocess: fn.fprocess, combine_output: 'true', mode: 'serializing' });
  const r = await request(combined.port, '/');
  assert.equal(r.body, 'out\nerr-line\n');
  assert.doesNotMatch(combined.log(), /err-line/);
});

test('the function gets stdin, stdout and stderr and no other descriptor of the watchdog (no socket, no pipe of another request)', async (t) => {
  // ls opens /proc/self/fd itself: that one descriptor is its own.
  const wd = await startWatchdog(t, { fprocess: 'ls -l /proc/self/fd' });
  const r = await request(wd.port, '/', { body: 'x' });
  assert.equal(r.status, 200);
  const fds = [...r.body.matchAll(/ (\d+) -> (.*)$/gm)].map((m) => [Number(m[1]), m[2]!] as const);
  assert.deepEqual(fds.filter(([fd]) => fd <= 2).map(([, target]) => target.replace(/\d+/, 'N')), ['pipe:[N]', 'pipe:[N]', 'pipe:[N]']);
  const others = fds.filter(([fd]) => fd > 2);
  assert.ok(others.every(([, target]) => target.startsWith('/proc/')), `descriptors beyond 2: ${JSON.stringify(others)}`);
  assert.ok(others.length <= 1, `descriptors beyond 2: ${JSON.stringify(others)}`);
});

test('function_process is the command when fprocess is unset (of-watchdog\'s name), fprocess wins when both are set', async (t) => {
  const only = await startWatchdog(t, { function_process: 'echo from-function-process' });
  assert.equal((await request(only.port, '/')).body, 'from-function-process\n');
  const both = await startWatchdog(t, { function_process: 'echo loser', fprocess: 'echo winner' });
  assert.equal((await request(both.port, '/')).body, 'winner\n');
});
