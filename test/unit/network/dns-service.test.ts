/**
 * The resolver service against Node's own resolver (c-ares) as the client
 * and fake upstream resolvers the tests run: names of the network answered,
 * everything else forwarded (TCP when truncated, the next upstream on
 * silence or SERVFAIL), REFUSED for sources the zone refuses.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { test } from 'node:test';
import { TYPE, decode, fakeUpstream, fixedZone, query, startService, txt, udpAsk, upstreamReply } from './dns-fakes.ts';

function resolver(port: number, host = '127.0.0.1'): Resolver {
  const r = new Resolver({ timeout: 5000, tries: 1 });
  r.setServers([`${host}:${port}`]);
  return r;
}

const NAMES = { 'web.berth': ['10.88.0.2'], 'db.berth': ['10.88.0.3', '10.88.0.4'], 'cache.berth': ['10.88.0.5'] };

test('A for a name of the network, whatever its case; AAAA gets NODATA; PTR gives the names', async (t) => {
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [] });
  const r = resolver(port);
  assert.deepEqual(await r.resolve4('web.berth', { ttl: true }), [{ address: '10.88.0.2', ttl: 600 }]);
  assert.deepEqual(await r.resolve4('WeB.BeRtH'), ['10.88.0.2']);
  assert.deepEqual((await r.resolve4('db.berth')).sort(), ['10.88.0.3', '10.88.0.4']);
  await assert.rejects(r.resolve6('web.berth'), { code: 'ENODATA' });
  assert.deepEqual(await r.reverse('10.88.0.5'), ['cache.berth']);
  assert.deepEqual(dns.stats(), { queries: 5, answered: 5, forwarded: 0, refused: 0, failed: 0 });
});

test('the addresses of a name rotate across queries', async (t) => {
  const { port } = await startService(t, { zone: fixedZone({ 'many.berth': ['10.0.0.1', '10.0.0.2', '10.0.0.3'] }), upstreams: [] });
  const firsts = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const [reply] = await udpAsk('127.0.0.1', port, query(100 + i, 'many.berth', TYPE.A));
    const d = decode(reply ?? Buffer.alloc(0));
    assert.equal(d.answers.length, 3);
    firsts.add([...(d.answers[0]?.data ?? [])].join('.'));
  }
  assert.equal(firsts.size, 3);
});

test('other names go to the upstream, and its answer comes back with the client id', async (t) => {
  const up = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q, { answers: [[TYPE.TXT, txt('hello', 'world')]] }));
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address] });
  assert.deepEqual(await resolver(port).resolveTxt('outside.example'), [['hello', 'world']]);
  assert.deepEqual(up.seen, [{ transport: 'udp', name: 'outside.example', type: TYPE.TXT }]);
  const [reply] = await udpAsk('127.0.0.1', port, query(0xbeef, 'outside.example', TYPE.TXT));
  assert.equal(decode(reply ?? Buffer.alloc(0)).id, 0xbeef);
  assert.equal(dns.stats().forwarded, 2);
});

test('a PTR for an address not of the network is forwarded', async (t) => {
  const up = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q, { answers: [[TYPE.PTR, Buffer.from([4, ...Buffer.from('host'), 0])]] }));
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address] });
  assert.deepEqual(await resolver(port).reverse('192.0.2.7'), ['host']);
  assert.deepEqual(up.seen, [{ transport: 'udp', name: '7.2.0.192.in-addr.arpa', type: TYPE.PTR }]);
});

test('a truncated upstream answer is fetched again over TCP and relayed whole over UDP', async (t) => {
  const up = await fakeUpstream(t, '127.0.0.2', (q, transport) =>
    transport === 'udp' ? upstreamReply(q, { truncated: true }) : upstreamReply(q, { answers: [[TYPE.TXT, txt('over tcp')]] }),
  );
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address] });
  const [reply] = await udpAsk('127.0.0.1', port, query(7, 'big.example', TYPE.TXT));
  const d = decode(reply ?? Buffer.alloc(0));
  assert.equal(d.truncated, false);
  assert.equal(d.id, 7);
  assert.deepEqual(d.answers.map((a) => a.data.subarray(1).toString()), ['over tcp']);
  assert.deepEqual(up.seen.map((s) => s.transport), ['udp', 'tcp']);
});

test('an answer larger than the UDP client takes is cut with TC, and the client gets it whole over TCP', async (t) => {
  const long = Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(200, 'x'));
  const up = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q, { answers: long.map((s) => [TYPE.TXT, txt(s)]) }));
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address] });
  const [cut] = await udpAsk('127.0.0.1', port, query(8, 'large.example', TYPE.TXT));
  assert.ok(cut !== undefined && cut.length <= 512);
  assert.equal(decode(cut).truncated, true);
  // c-ares retries over TCP on TC, as a stub resolver does
  const records = await resolver(port).resolveTxt('large.example');
  assert.deepEqual(records.map((r) => r.join('')).sort(), [...long].sort());
});

test('a silent upstream is skipped for the next one; with none answering, SERVFAIL', async (t) => {
  const silent = await fakeUpstream(t, '127.0.0.2', () => undefined);
  const good = await fakeUpstream(t, '127.0.0.3', (q) => upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 1])]] }));
  const failing = await fakeUpstream(t, '127.0.0.4', (q) => upstreamReply(q, { rcode: 2 }));
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [silent.address, good.address], timeoutMs: 200 });
  assert.deepEqual(await resolver(port).resolve4('next.example'), ['192.0.2.1']);
  assert.equal(silent.seen.length, 1);
  assert.equal(good.seen.length, 1);

  dns.setUpstreams([silent.address, failing.address]);
  await assert.rejects(resolver(port).resolve4('nobody.example'), { code: 'ESERVFAIL' });
  assert.equal(silent.seen.length, 2);
  assert.equal(failing.seen.length, 1);

  dns.setUpstreams([]);
  await assert.rejects(resolver(port).resolve4('none.example'), { code: 'ESERVFAIL' });
  assert.deepEqual(dns.stats(), { queries: 3, answered: 0, forwarded: 1, refused: 0, failed: 2 });
});

test('an upstream whose port is closed (ICMP unreachable) is skipped at once, not after the time limit', async (t) => {
  const closed = createSocket('udp4');
  await new Promise<void>((resolve) => closed.bind(0, '127.0.0.2', resolve));
  const closedPort = closed.address().port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const good = await fakeUpstream(t, '127.0.0.3', (q) => upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 10])]] }));
  // a time limit longer than the client waits: only the refusal moves the query on
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [`127.0.0.2:${closedPort}`, good.address], timeoutMs: 60_000 });
  assert.deepEqual(await resolver(port).resolve4('refused.example'), ['192.0.2.10']);
});

test('a SERVFAIL upstream is skipped for the next one', async (t) => {
  const failing = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q, { rcode: 2 }));
  const good = await fakeUpstream(t, '127.0.0.3', (q) => upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 9])]] }));
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [failing.address, good.address] });
  assert.deepEqual(await resolver(port).resolve4('after.example'), ['192.0.2.9']);
  assert.equal(failing.seen.length, 1);
});

test('upstream replies with another id or another question are not taken for the answer (spoofing)', async (t) => {
  const up = await fakeUpstream(t, '127.0.0.2', (q) => [
    upstreamReply(q, { id: (q.readUInt16BE(0) + 1) & 0xffff, answers: [[TYPE.A, Buffer.from([6, 6, 6, 6])]] }),
    upstreamReply(query(q.readUInt16BE(0), 'other.example', TYPE.A), { answers: [[TYPE.A, Buffer.from([6, 6, 6, 7])]] }),
    upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 44])]] }),
  ]);
  const { port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [up.address] });
  assert.deepEqual(await resolver(port).resolve4('real.example'), ['192.0.2.44']);
});

test('a source the zone refuses gets REFUSED, for its names and others alike', async (t) => {
  const up = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q));
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES, ['127.0.0.1']), upstreams: [up.address] });
  await assert.rejects(resolver(port).resolve4('web.berth'), { code: 'EREFUSED' });
  await assert.rejects(resolver(port).resolve4('outside.example'), { code: 'EREFUSED' });
  assert.equal(up.seen.length, 0);
  assert.deepEqual(dns.stats(), { queries: 2, answered: 0, forwarded: 0, refused: 2, failed: 0 });
});

test('the service never forwards to its own listener (a resolv.conf naming a gateway)', async (t) => {
  const { dns, port } = await startService(t, { zone: fixedZone(NAMES), upstreams: [] });
  dns.setUpstreams([`127.0.0.1:${port}`]);
  await assert.rejects(resolver(port).resolve4('loop.example'), { code: 'ESERVFAIL' });
  assert.equal(dns.stats().queries, 1);
});

test('the zone throwing gives SERVFAIL and a log line, and the service goes on', async (t) => {
  const events: string[] = [];
  const zone = { ...fixedZone(NAMES), lookup: () => { throw new Error('zone broken'); } };
  const { port } = await startService(t, { zone, upstreams: [], log: (e) => events.push(e) });
  await assert.rejects(resolver(port).resolve4('web.berth'), { code: 'ESERVFAIL' });
  assert.ok(events.includes('dns.zone_failed'));
  const [reply] = await udpAsk('127.0.0.1', port, query(3, 'web.berth', TYPE.A));
  assert.equal(decode(reply ?? Buffer.alloc(0)).rcode, 2);
});

test('an EDNS query gets an OPT record back and its answers up to the announced size', async (t) => {
  const many = Array.from({ length: 60 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
  const { port } = await startService(t, { zone: fixedZone({ 'many.berth': many }), upstreams: [] });
  const [plain] = await udpAsk('127.0.0.1', port, query(1, 'many.berth', TYPE.A));
  const p = decode(plain ?? Buffer.alloc(0));
  assert.equal(p.truncated, true);
  assert.ok((plain?.length ?? 0) <= 512 && p.answers.length < 60);
  const [withEdns] = await udpAsk('127.0.0.1', port, query(2, 'many.berth', TYPE.A, 4096));
  const e = decode(withEdns ?? Buffer.alloc(0));
  assert.equal(e.truncated, false);
  assert.equal(e.answers.length, 60);
  assert.equal(e.counts[3], 1, 'an OPT record in the additional section');
});

test("a source's own upstreams (a container's --dns) take its forwarded queries; others keep the service's", async (t) => {
  const shared = await fakeUpstream(t, '127.0.0.2', (q) => upstreamReply(q, { answers: [[TYPE.TXT, txt('shared')]] }));
  const own = await fakeUpstream(t, '127.0.0.3', (q) => upstreamReply(q, { answers: [[TYPE.TXT, txt('own')]] }));
  const zone = { ...fixedZone(NAMES), upstreams: (_local: string, source: string) => (source === '127.0.0.1' ? [own.address] : undefined) };
  const { port } = await startService(t, { zone, upstreams: [shared.address] });
  assert.deepEqual(await resolver(port).resolveTxt('outside.example'), [['own']]);
  assert.equal(shared.seen.length, 0);
  assert.deepEqual(own.seen, [{ transport: 'udp', name: 'outside.example', type: TYPE.TXT }]);
});
