/**
 * The resolver over TCP: two-byte length framing, several queries on one
 * connection (in one write or dripped a byte at a time), idle connections
 * closed, a cap on connections; and the cap on forwarded queries in flight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { until } from '../../helpers/api.ts';
import { TYPE, decode, fakeUpstream, fixedZone, query, startService, tcpClient, udpAsk, upstreamReply } from './dns-fakes.ts';

const NAMES = { 'web.berth': ['10.88.0.2'], 'db.berth': ['10.88.0.3'] };

test('two queries in one write on one TCP connection get two framed answers', async (t) => {
  const up = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 5])]] }));
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address] });
  const c = await tcpClient(t, '127.0.0.1', port);
  c.send([query(11, 'web.berth', TYPE.A), query(12, 'away.example', TYPE.A)]);
  await until('two answers', () => c.replies.length === 2);
  const byId = new Map(c.replies.map((r) => [decode(r).id, decode(r)]));
  assert.deepEqual([...(byId.get(11)?.answers[0]?.data ?? [])], [10, 88, 0, 2]);
  assert.deepEqual([...(byId.get(12)?.answers[0]?.data ?? [])], [192, 0, 2, 5]);
  // the same connection takes more
  c.send([query(13, 'db.berth', TYPE.A)]);
  await until('a third answer', () => c.replies.length === 3);
  assert.equal(decode(c.replies[2] ?? Buffer.alloc(0)).id, 13);
  assert.equal(c.closed(), false);
});

test('a query dripped one byte at a time over TCP is answered', async (t) => {
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [] });
  const c = await tcpClient(t, '127.0.0.1', port);
  const msg = query(21, 'db.berth', TYPE.A);
  const framed = Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg]);
  for (const byte of framed) {
    await new Promise<void>((resolve) => c.sock.write(Buffer.from([byte]), () => resolve()));
  }
  await until('the answer', () => c.replies.length === 1);
  assert.deepEqual([...(decode(c.replies[0] ?? Buffer.alloc(0)).answers[0]?.data ?? [])], [10, 88, 0, 3]);
});

test('an idle TCP connection is closed by the server', async (t) => {
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [], tcpIdleMs: 100 });
  const c = await tcpClient(t, '127.0.0.1', port);
  c.send([query(1, 'web.berth', TYPE.A)]);
  await until('the answer', () => c.replies.length === 1);
  await until('the server closing the idle connection', () => c.closed());
});

test('a connection waiting on a slow forward is not idle: it stays open and gets its answer', async (t) => {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const up = await fakeUpstream(t, '127.0.0.2', async (q) => {
    await gate;
    return upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 11])]] });
  });
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address], tcpIdleMs: 100, timeoutMs: 60_000 });
  const waiting = await tcpClient(t, '127.0.0.1', port);
  waiting.send([query(1, 'slow.example', TYPE.A)]);
  await until('the forward in flight', () => up.seen.length === 1);
  // a connection opened after the waiting one's last byte and idle since: once it is closed, the waiting one has been silent longer
  const idle = await tcpClient(t, '127.0.0.1', port);
  await until('the idle connection closed', () => idle.closed());
  assert.equal(waiting.closed(), false);
  open();
  await until('the answer', () => waiting.replies.length === 1);
  assert.deepEqual([...(decode(waiting.replies[0] ?? Buffer.alloc(0)).answers[0]?.data ?? [])], [192, 0, 2, 11]);
});

test('connections beyond the cap are closed on arrival; those within it are served', async (t) => {
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [], maxTcpConnections: 2 });
  const a = await tcpClient(t, '127.0.0.1', port);
  const b = await tcpClient(t, '127.0.0.1', port);
  // a and b are accepted before a third arrives: each answered once proves it
  a.send([query(1, 'web.berth', TYPE.A)]);
  b.send([query(2, 'web.berth', TYPE.A)]);
  await until('a and b answered', () => a.replies.length === 1 && b.replies.length === 1);
  const extra = await tcpClient(t, '127.0.0.1', port);
  await until('the extra connection closed', () => extra.closed());
  assert.equal(extra.replies.length, 0);
  a.sock.destroy();
  // a's place is free again once the server has seen a's close
  for (;;) {
    const d = await tcpClient(t, '127.0.0.1', port);
    d.send([query(3, 'db.berth', TYPE.A)]);
    await until('answered or closed', () => d.replies.length === 1 || d.closed());
    if (d.replies.length === 1) break;
  }
});

test('one TCP connection has at most 16 queries handled at once, even sent in one write; the rest follow', async (t) => {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const up = await fakeUpstream(t, '127.0.0.2', async (q) => {
    await gate;
    return upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 8])]] });
  });
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address], timeoutMs: 60_000 });
  const c = await tcpClient(t, '127.0.0.1', port);
  c.send(Array.from({ length: 40 }, (_, i) => query(i, `n${i}.example`, TYPE.A)));
  await until('16 forwards in flight', () => up.seen.length === 16);
  // another connection is served meanwhile, and the first has had no more read
  const other = await tcpClient(t, '127.0.0.1', port);
  other.send([query(99, 'web.berth', TYPE.A)]);
  await until('the other connection answered', () => other.replies.length === 1);
  assert.equal(up.seen.length, 16);
  open();
  await until('all 40 answered', () => c.replies.length === 40);
  assert.deepEqual(c.replies.map((r) => decode(r).id).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});

test('forwards beyond the in-flight cap get SERVFAIL at once instead of waiting', async (t) => {
  const silent = await fakeUpstream(t, '127.0.0.2', () => undefined);
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [silent.address], maxInFlight: 1, timeoutMs: 60_000 });
  const stopWaiting = new AbortController();
  const first = udpAsk('127.0.0.1', port, query(1, 'slow.example', TYPE.A), { signal: stopWaiting.signal });
  await until('the first forward in flight', () => silent.seen.length === 1);
  const [second] = await udpAsk('127.0.0.1', port, query(2, 'other.example', TYPE.A));
  assert.equal(decode(second ?? Buffer.alloc(0)).rcode, 2);
  assert.equal(silent.seen.length, 1, 'the second query was not sent upstream');
  assert.equal(dns.stats().failed, 1);
  stopWaiting.abort();
  assert.deepEqual(await first, [], 'the first is still waiting on its silent upstream');
});
