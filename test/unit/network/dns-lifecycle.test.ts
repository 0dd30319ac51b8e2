/**
 * The resolver's listeners: one per network address, each answering with
 * that network's names; listen idempotent per address; a bind that fails
 * is an error naming the address; unlisten frees the port; close() leaves
 * no socket, server or timer behind, forwards in flight included.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { DnsService, type ResolverZone } from '../../../src/network/dns/index.ts';
import { until } from '../../helpers/api.ts';
import { onCleanup } from '../../helpers/cleanup.ts';
import { TYPE, decode, fakeUpstream, fixedZone, query, startService, tcpClient, udpAsk, upstreamReply } from './dns-fakes.ts';

test('each listener answers with the names of its own network, and tells the zone who asked', async (t) => {
  const asked: string[] = [];
  const zone: ResolverZone = {
    lookup: (local, name, source) => {
      asked.push(`${local} ${source} ${name}`);
      if (name !== 'web') return undefined;
      return { ipv4: [local === '127.0.0.1' ? '10.1.0.2' : '10.2.0.2'] };
    },
    reverse: () => undefined,
    allowed: () => true,
  };
  const { dns, port } = await startService(t, { zone, upstreams: [] });
  const port2 = await dns.listen('127.0.0.2', 0);
  const [one] = await udpAsk('127.0.0.1', port, query(1, 'web', TYPE.A));
  const [two] = await udpAsk('127.0.0.2', port2, query(2, 'web', TYPE.A));
  assert.deepEqual([...(decode(one ?? Buffer.alloc(0)).answers[0]?.data ?? [])], [10, 1, 0, 2]);
  assert.deepEqual([...(decode(two ?? Buffer.alloc(0)).answers[0]?.data ?? [])], [10, 2, 0, 2]);
  assert.deepEqual(asked, ['127.0.0.1 127.0.0.1 web', '127.0.0.2 127.0.0.1 web']);
  assert.deepEqual(dns.addresses().sort(), ['127.0.0.1', '127.0.0.2']);
});

test('an IPv6 listener answers and forwards to an IPv6 upstream', async (t) => {
  const up = await fakeUpstream(t, '::1', (q) => upstreamReply(q, { answers: [[TYPE.A, Buffer.from([192, 0, 2, 6])]] }));
  const { port } = await startService(t, { zone: fixedZone({ web: ['10.0.0.2'] }), upstreams: [up.address] }, '::1');
  const r = new Resolver({ timeout: 5000, tries: 1 });
  r.setServers([`[::1]:${port}`]);
  assert.deepEqual(await r.resolve4('web'), ['10.0.0.2']);
  assert.deepEqual(await r.resolve4('six.example'), ['192.0.2.6']);
  assert.deepEqual(up.seen, [{ transport: 'udp', name: 'six.example', type: TYPE.A }]);
});

test('listen is idempotent per address, also when called twice at once', async (t) => {
  const dns = DnsService.create({ zone: fixedZone({}), upstreams: [] });
  onCleanup(t, () => dns.close());
  const [a, b] = await Promise.all([dns.listen('127.0.0.1', 0), dns.listen('127.0.0.1', 0)]);
  assert.equal(a, b);
  assert.equal(await dns.listen('127.0.0.1', 0), a);
  assert.equal(dns.port('127.0.0.1'), a);
});

test('a port taken over UDP or TCP, an address not of this host, or no address at all: an error naming it', async (t) => {
  const dns = DnsService.create({ zone: fixedZone({}), upstreams: [] });
  onCleanup(t, () => dns.close());
  const udp = createSocket('udp4');
  onCleanup(t, () => new Promise<void>((resolve) => udp.close(() => resolve())));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.3', resolve));
  const udpPort = udp.address().port;
  await assert.rejects(dns.listen('127.0.0.3', udpPort), (err) => isBerthError(err, 'dns_listen_failed') && err.message.includes(`127.0.0.3 port ${udpPort}/udp`));
  const tcp = createServer();
  onCleanup(t, () => new Promise<void>((resolve) => tcp.close(() => resolve())));
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.4', resolve));
  const address = tcp.address();
  const tcpPort = typeof address === 'object' && address !== null ? address.port : 0;
  await assert.rejects(dns.listen('127.0.0.4', tcpPort), (err) => isBerthError(err, 'dns_listen_failed') && err.message.includes(`127.0.0.4 port ${tcpPort}/tcp`));
  await assert.rejects(dns.listen('192.0.2.1', 0), (err) => isBerthError(err, 'dns_listen_failed') && err.message.includes('192.0.2.1'));
  await assert.rejects(dns.listen('gateway', 0), (err) => isBerthError(err, 'dns_listen_address_invalid') && err.message.includes('"gateway"'));
  assert.deepEqual(dns.addresses(), []);
  // the failed UDP half of the TCP failure was closed: the port can be listened on once TCP frees it
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  assert.equal(await dns.listen('127.0.0.4', tcpPort), tcpPort);
});

test('bad options are refused, naming the option', () => {
  assert.throws(() => DnsService.create({ zone: fixedZone({}), upstreams: ['nowhere'] }), (err) => isBerthError(err, 'dns_upstream_invalid'));
  assert.throws(() => DnsService.create({ zone: fixedZone({}), upstreams: [], timeoutMs: 0 }), (err) => isBerthError(err, 'dns_option_invalid') && err.message.includes('timeoutMs'));
});

test('unlisten frees the address and port for anyone else', async (t) => {
  const { dns, port } = await startService(t, { zone: fixedZone({ web: ['10.0.0.2'] }), upstreams: [] }, '127.0.0.5');
  const c = await tcpClient(t, '127.0.0.5', port);
  await dns.unlisten('127.0.0.5');
  assert.equal(dns.port('127.0.0.5'), undefined);
  await until('its TCP connection closed', () => c.closed());
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.5', resolve));
  await new Promise<void>((resolve) => udp.close(() => resolve()));
  const tcp = createServer();
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.5', resolve));
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  await dns.unlisten('127.0.0.5');
});

/** Counts of the handles of the kinds a resolver holds. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (['UDPWrap', 'TCPServerWrap', 'TCPSocketWrap', 'Timeout'].includes(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

test('close() leaves no socket, server or timer, with a TCP client connected and a forward in flight', async (t) => {
  const silent = await fakeUpstream(t, '127.0.0.2', () => undefined);
  const before = handles();
  const dns = DnsService.create({ zone: fixedZone({ web: ['10.0.0.2'] }), upstreams: [silent.address], timeoutMs: 60_000 });
  const port = await dns.listen('127.0.0.1', 0);
  await dns.listen('127.0.0.6', 0);
  const client = await tcpClient(t, '127.0.0.1', port);
  client.send([query(1, 'far.example', TYPE.A)]);
  await until('the forward in flight', () => silent.seen.length === 1);
  assert.notDeepEqual(handles(), before);
  await dns.close();
  await until('the client closed by the server', () => client.closed());
  // no more of each kind than before (earlier tests' handles may still be closing, never more)
  await until('no handle of the resolver left', () => Object.entries(handles()).every(([kind, n]) => n <= (before[kind] ?? 0)));
  assert.deepEqual(dns.addresses(), []);
  assert.equal(client.replies.length, 0);
});
