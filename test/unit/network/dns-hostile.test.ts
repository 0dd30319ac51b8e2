/**
 * Hostile traffic on the wire against a running resolver: malformed
 * datagrams get FORMERR or silence, responses sent to it are never
 * answered (no ping-pong between two servers), a flood of random packets
 * and garbage TCP streams leave it answering.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { test } from 'node:test';
import { until } from '../../helpers/api.ts';
import { onCleanup } from '../../helpers/cleanup.ts';
import { TYPE, decode, fakeUpstream, fixedZone, query, startService, tcpClient, udpAsk, upstreamReply } from './dns-fakes.ts';

const NAMES = { 'web.berth': ['10.88.0.2'] };

test('a query with a compression pointer loop gets FORMERR with its id', async (t) => {
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [] });
  const loop = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]);
  const [r] = await udpAsk('127.0.0.1', port, loop);
  const d = decode(r ?? Buffer.alloc(0));
  assert.equal(d.id, 0xabcd);
  assert.equal(d.rcode, 1);
});

test('a response sent to the resolver is not answered (no ping-pong between servers)', async (t) => {
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [] });
  const sock = createSocket('udp4');
  onCleanup(t, () => new Promise<void>((resolve) => sock.close(() => resolve())));
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  const response = upstreamReply(query(0x1111, 'web.berth', TYPE.A), { answers: [[TYPE.A, Buffer.from([1, 2, 3, 4])]] });
  sock.send(response, port, '127.0.0.1');
  sock.send(query(0x2222, 'web.berth', TYPE.A), port, '127.0.0.1');
  await until('the answer to the query', () => got.length >= 1);
  assert.deepEqual(got.map((m) => decode(m).id), [0x2222]);
  assert.equal(dns.stats().queries, 1);
});

test('after a flood of random and mutated datagrams and garbage TCP streams, the resolver still answers', async (t) => {
  const up = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 3])]] }));
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address], maxTcpConnections: 8 });
  const sock = createSocket('udp4');
  onCleanup(t, () => new Promise<void>((resolve) => sock.close(() => resolve())));
  let replies = 0;
  sock.on('message', () => replies++);
  const seed = query(5, 'web.berth', TYPE.A, 1232);
  for (let i = 0; i < 3000; i++) {
    let msg: Buffer;
    if (i % 2 === 0) msg = randomBytes(randomInt(0, 1500));
    else {
      msg = Buffer.from(seed);
      for (let k = randomInt(1, 8); k > 0; k--) msg[randomInt(0, msg.length)] = randomInt(0, 256);
      msg = msg.subarray(0, randomInt(0, msg.length + 1));
    }
    await new Promise<void>((resolve) => sock.send(msg, port, '127.0.0.1', () => resolve()));
  }
  // TCP: an empty frame, garbage in frames, a frame promising 65535 bytes and then the close
  const garbage = await tcpClient(t, '127.0.0.1', port);
  garbage.sock.write(Buffer.concat([Buffer.from([0, 0]), Buffer.from([0, 5, 1, 2, 3, 4, 5]), Buffer.from([0, 12]), randomBytes(12)]));
  garbage.send([query(77, 'web.berth', TYPE.A)]);
  await until('the well-formed query after the garbage answered', () => garbage.replies.some((r) => decode(r).id === 77));
  const promise = await tcpClient(t, '127.0.0.1', port);
  promise.sock.end(Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(100)]));
  for (let i = 0; i < 20; i++) {
    const c = await tcpClient(t, '127.0.0.1', port);
    c.sock.end(randomBytes(randomInt(1, 3000)));
  }

  const r = new Resolver({ timeout: 5000, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  assert.deepEqual(await r.resolve4('web.berth'), ['10.88.0.2']);
  assert.deepEqual(await r.resolve4('after.example'), ['192.0.2.3']);
  const s = dns.stats();
  assert.ok(s.queries > 0 && s.failed > 0, JSON.stringify(s));
  assert.ok(replies > 0, 'malformed queries with a readable id got an answer');
});
