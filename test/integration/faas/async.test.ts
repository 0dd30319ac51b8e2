/**
 * Async calls in a real berthd (as root): `/async-function/` answers 202
 * with an X-Call-Id once the call is on disk; the worker calls the
 * function through the gateway, retries 503s with back-off, makes dead
 * letters of calls whose tries are spent (listed, inspected, replayed,
 * deleted under /system/async-calls), and POSTs each answer to the
 * X-Callback-Url (a receiver on 127.0.0.1 in this test) with OpenFaaS's
 * headers. A berthd killed with kill -9 while 100 calls wait loses none.
 *
 * The functions are busybox httpd CGI scripts: `flaky` answers 503 to the
 * first two tries of a key (counted in a file in the replica's /tmp),
 * `slow` sleeps a tenth of a second, `echo` writes back what it was given.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startDaemon, until, type TestDaemon } from '../../helpers/daemon.ts';
import { gatewayClient, importCgiImage, type GatewayClient } from '../../helpers/faas.ts';

const IMAGE = 'faas-async:latest';

const CGI: Record<string, string> = {
  echo: `#!/bin/sh
printf 'Content-Type: text/plain\\r\\nX-Echo: yes\\r\\n\\r\\n'
echo "method=$REQUEST_METHOD"
echo "uri=$REQUEST_URI"
echo "header=$HTTP_X_TEST"
echo "callid=$HTTP_X_CALL_ID"
printf 'body='
if [ -n "$CONTENT_LENGTH" ]; then head -c "$CONTENT_LENGTH"; fi
echo
`,
  flaky: `#!/bin/sh
f="/tmp/tries-$QUERY_STRING"
n=$(cat "$f" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$f"
if [ "$n" -le 2 ]; then
  printf 'HTTP/1.0 503 Service Unavailable\\r\\nContent-Type: text/plain\\r\\n\\r\\nnot yet (try %s)\\n' "$n"
  exit 0
fi
printf 'Content-Type: text/plain\\r\\n\\r\\nok on try %s\\n' "$n"
`,
  slow: `#!/bin/sh
usleep 100000
printf 'Content-Type: text/plain\\r\\n\\r\\n'
if [ -n "$CONTENT_LENGTH" ]; then head -c "$CONTENT_LENGTH"; fi
`,
};

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let d: TestDaemon;
let gw: GatewayClient;
let receiver: Server;
let callbackUrl: string;
const received: Received[] = [];

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.end('thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
  d = await startDaemon({
    gateway: true,
    // One call of a function at a time, so that the 100 calls of the kill -9 test wait in the queue.
    args: ['--async-function-max-inflight', '1'],
    prepare: (images, scratch) => importCgiImage(images, scratch, IMAGE, CGI),
  });
  gw = gatewayClient(d.gateway!, d.root);
});

after(async () => {
  // The functions first: a replica removed by stop() would otherwise be replaced while berthd stops.
  for (const fn of deployed) await gw?.fetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: fn }) }).catch(() => undefined);
  await d?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** Quick retries for the tests: 100ms doubling up to 400ms. */
const FAST_RETRY = { 'com.openfaas.retry.min_wait': '100ms', 'com.openfaas.retry.max_wait': '400ms' };

const deployed: string[] = [];

async function deploy(name: string, annotations: Record<string, string> = {}): Promise<void> {
  deployed.push(name);
  const r = await gw.deploy({ service: name, image: IMAGE, annotations });
  assert.equal(r.status, 202, await r.text());
}

async function enqueue(path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return gw.fetch(`/async-function/${path}`, { auth: false, method: 'POST', ...(init.body === undefined ? {} : { body: init.body }), headers: init.headers ?? {} });
}

async function accepted(path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<string> {
  const r = await enqueue(path, init);
  assert.equal(r.status, 202, await r.text());
  const id = r.headers.get('x-call-id');
  assert.ok(id !== null && id !== '');
  return id;
}

/** A timeout's error with what the queue and berthd said meanwhile: every call of the function with its tries, and the log's end. */
function explained(fn: string): (err: unknown) => Promise<never> {
  return async (err) => {
    const calls = (await gw.get(`/system/async-calls?function=${fn}`).catch((e: unknown) => String(e))) as Call[] | string;
    const tries = typeof calls === 'string' ? calls : await Promise.all(calls.map((c) => gw.get(`/system/async-calls/${c.id}`).catch((e: unknown) => String(e))));
    throw new Error(`${String(err)}\n--- calls of ${fn}\n${JSON.stringify(tries)}\n--- berthd's log\n${d.log().split('\n').slice(-40).join('\n')}`);
  };
}

const callbackOf = (id: string): Promise<Received> => until(`the callback of ${id}`, () => received.find((c) => c.headers['x-call-id'] === id), 60_000);

interface Call {
  id: string;
  function: string;
  state: string;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  tries?: { n: number; status?: number; error?: string; seconds?: number }[];
}

test('202 with an X-Call-Id; the callback gets the answer with the request as it was sent, and OpenFaaS\'s headers', async () => {
  await deploy('echo');
  const id = await accepted('echo/cgi-bin/echo?a=1&b=two', { body: 'payload-123', headers: { 'X-Test': 'kept', 'X-Callback-Url': callbackUrl } });
  const cb = await callbackOf(id);
  assert.match(cb.body, /^method=POST$/m);
  assert.match(cb.body, /^uri=\/cgi-bin\/echo\?a=1&b=two$/m);
  assert.match(cb.body, /^header=kept$/m);
  assert.match(cb.body, new RegExp(`^callid=${id}$`, 'm'), 'the function sees the call id');
  assert.match(cb.body, /^body=payload-123$/m);
  assert.equal(cb.headers['x-function-status'], '200');
  assert.equal(cb.headers['x-function-name'], 'echo');
  assert.match(String(cb.headers['x-duration-seconds']), /^\d+\.\d+$/);
  assert.match(String(cb.headers['x-start-time']), /^\d+$/);
  assert.equal(cb.headers['x-echo'], 'yes', "the function's own headers");
  assert.equal(cb.headers['content-type'], 'text/plain');
  // A client's own call id is kept.
  const mine = await accepted('echo/cgi-bin/echo', { body: 'x', headers: { 'X-Call-Id': 'my-call.1', 'X-Callback-Url': callbackUrl } });
  assert.equal(mine, 'my-call.1');
  await callbackOf('my-call.1');
  await until('done calls to leave the table', async () => (((await gw.get('/system/async-calls?function=echo')) as Call[]).length === 0 ? true : undefined));
});

test('refused: an unknown function (404), another method (405), a body over the limit (413, naming it), a callback that is not http(s) (400)', async () => {
  const none = await enqueue('nosuch', { body: 'x' });
  assert.equal(none.status, 404, await none.text());
  const get = await gw.fetch('/async-function/echo', { auth: false });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  const big = await enqueue('echo', { body: 'x'.repeat(1024 * 1024 + 1) });
  const bigText = await big.text();
  assert.equal(big.status, 413, bigText);
  assert.match(bigText, /limit of 1048576 bytes/);
  for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1/', 'not a url']) {
    const r = await enqueue('echo', { body: 'x', headers: { 'X-Callback-Url': url } });
    const text = await r.text();
    assert.equal(r.status, 400, `${url}: ${text}`);
    assert.match(text, /X-Callback-Url/);
  }
  const badId = await enqueue('echo', { body: 'x', headers: { 'X-Call-Id': 'has space' } });
  assert.equal(badId.status, 400);
  assert.deepEqual(await gw.get('/system/async-calls'), [], 'nothing refused was queued');
});

test('503 twice then 200: retried with back-off, each try recorded; the callback has the final answer', async () => {
  await deploy('flaky', { ...FAST_RETRY, 'com.openfaas.retry.attempts': '5' });
  const id = await accepted('flaky/cgi-bin/flaky?k1', { headers: { 'X-Callback-Url': callbackUrl } });
  const cb = await callbackOf(id);
  assert.equal(cb.headers['x-function-status'], '200');
  assert.equal(cb.body, 'ok on try 3\n', 'the function counted three tries');
  const metrics = await gw.fetch('/metrics', { auth: false }).then((r) => r.text());
  assert.match(metrics, /^gateway_async_attempts_total\{function_name="flaky.openfaas-fn",code="503"\} 2$/m);
  assert.match(metrics, /^gateway_async_attempts_total\{function_name="flaky.openfaas-fn",code="200"\} 1$/m);
  assert.match(metrics, /^gateway_async_retries_total\{function_name="flaky.openfaas-fn"\} 2$/m);
  assert.match(metrics, /^gateway_async_callbacks_total\{function_name="flaky.openfaas-fn",result="ok"\} 1$/m);
});

test('tries spent: a dead letter, listed, inspected, replayed (then answered), and deleted', async () => {
  await deploy('doomed', { ...FAST_RETRY, 'com.openfaas.retry.attempts': '2', 'com.openfaas.retry.codes': '503' });
  const id = await accepted('doomed/cgi-bin/flaky?k2', { headers: { 'X-Callback-Url': callbackUrl } });
  const other = await accepted('doomed/cgi-bin/flaky?k3');
  const dead = await until('two dead letters', async () => {
    const list = (await gw.get('/system/async-calls?state=dead&function=doomed')) as Call[];
    return list.length === 2 ? list : undefined;
  }, 60_000).catch(explained('doomed'));
  assert.deepEqual(dead.map((c) => c.id), [id, other], 'oldest first');
  assert.deepEqual(await gw.get('/system/async-calls?state=dead&function=echo'), [], 'filtered by function');
  const one = (await gw.get(`/system/async-calls/${id}`)) as Call;
  assert.equal(one.state, 'dead');
  assert.equal(one.attempts, 2);
  assert.equal(one.lastStatus, 503);
  assert.match(one.lastError ?? '', /2 tries spent; last: status 503/);
  assert.deepEqual(one.tries?.map((t) => t.status), [503, 503]);
  // Its callback said so: the last answer with its status.
  const failed = await callbackOf(id);
  assert.equal(failed.headers['x-function-status'], '503');
  const metrics = await gw.fetch('/metrics', { auth: false }).then((r) => r.text());
  assert.match(metrics, /^gateway_async_dead_letters_total\{function_name="doomed.openfaas-fn"\} 2$/m);
  assert.match(metrics, /^gateway_async_queue_depth\{function_name="doomed.openfaas-fn",state="dead"\} 2$/m);

  // Replayed: the third try of key k2 answers 200.
  received.length = 0;
  const replay = await gw.fetch(`/system/async-calls/${id}/replay`, { method: 'POST' });
  assert.equal(replay.status, 202, await replay.text());
  const ok = await callbackOf(id);
  assert.equal(ok.headers['x-function-status'], '200');
  assert.equal(ok.body, 'ok on try 3\n');
  await until('the replayed call to be done', async () => ((await gw.fetch(`/system/async-calls/${id}`)).status === 404 ? true : undefined));

  // Not dead any more: a second replay is refused; the other is deleted.
  assert.equal((await gw.fetch(`/system/async-calls/${id}/replay`, { method: 'POST' })).status, 404);
  const del = await gw.fetch(`/system/async-calls/${other}`, { method: 'DELETE' });
  assert.equal(del.status, 200, await del.text());
  assert.deepEqual(await gw.get('/system/async-calls?function=doomed'), []);
  // The routes are under basic auth.
  assert.equal((await gw.fetch('/system/async-calls', { auth: false })).status, 401);
});

test('replay of all dead letters of a function', async () => {
  const ids = [await accepted('doomed/cgi-bin/flaky?k4'), await accepted('doomed/cgi-bin/flaky?k5')];
  await until('two dead letters', async () => (((await gw.get('/system/async-calls?state=dead&function=doomed')) as Call[]).length === 2 ? true : undefined), 60_000).catch(
    explained('doomed'),
  );
  const r = await gw.fetch('/system/async-calls/replay', { method: 'POST', body: JSON.stringify({ function: 'doomed' }) });
  assert.equal(r.status, 202);
  assert.deepEqual(await r.json(), { replayed: 2 });
  await until('both replayed calls done', async () => {
    const gone = await Promise.all(ids.map(async (id) => (await gw.fetch(`/system/async-calls/${id}`)).status === 404));
    return gone.every(Boolean) ? true : undefined;
  }, 60_000);
});

test('kill -9 of berthd with 100 calls queued: after the restart all 100 reach the callback', async () => {
  await deploy('slow');
  received.length = 0;
  const ids = new Set<string>();
  // Accepted concurrently; each 202 means on disk.
  const batch = await Promise.all(Array.from({ length: 100 }, (_, i) => accepted('slow/cgi-bin/slow', { body: `call ${i}`, headers: { 'X-Callback-Url': callbackUrl } })));
  for (const id of batch) ids.add(id);
  assert.equal(ids.size, 100);
  await until('a few calls delivered', () => (received.length >= 3 ? true : undefined), 60_000);
  await d.kill9();
  const before = new Set(received.map((c) => String(c.headers['x-call-id']))).size;
  assert.ok(before < 100, `only ${before} delivered before the kill: the queue was not waiting`);
  await d.restart();
  gw = gatewayClient(d.gateway!, d.root);
  await until('all 100 calls delivered to the callback', () => {
    const distinct = new Set(received.map((c) => String(c.headers['x-call-id'])).filter((id) => ids.has(id)));
    return distinct.size === 100 ? true : undefined;
  }, 120_000);
  const bodies = new Set(received.map((c) => c.body));
  for (let i = 0; i < 100; i++) assert.ok(bodies.has(`call ${i}`), `call ${i}'s answer`);
  console.log(`# ${before} of 100 delivered before kill -9, the rest after the restart (${received.length} callbacks, at least once)`);
  assert.match(d.log(), /async calls re-queued after a restart|gateway listening/);
});
