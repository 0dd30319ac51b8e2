/**
 * The resolver's wire codec on valid and hostile input: a verdict for
 * every message, never an exception or a loop; names exact; replies cut
 * to the client's size. The TCP frame reader and the upstream and
 * resolv.conf parsers too.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { isBerthError } from '../../../src/errors.ts';
import { FrameReader, frame } from '../../../src/network/dns/framing.ts';
import { hostUpstreams } from '../../../src/network/dns/resolv-conf.ts';
import { parseUpstream } from '../../../src/network/dns/upstream.ts';
import { aRecord, encodeName, parseQuery, reply, reverseIpv4, type Parsed } from '../../../src/network/dns/wire.ts';
import { TYPE, decode, nameBytes, query } from './dns-fakes.ts';

function verdict(p: Parsed): string {
  return p.kind === 'error' ? `rcode ${p.rcode}` : p.kind;
}

function withHeader(id: number, flags: number, counts: [number, number, number, number], body: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return Buffer.concat([h, body]);
}

const TAIL_A = Buffer.from([0, 1, 0, 1]);

test('a query is read: the name in lowercase, its type, the EDNS size clamped to 512..1232', () => {
  const p = parseQuery(query(0x1234, 'Web.Berth', TYPE.AAAA));
  assert.equal(p.kind, 'query');
  assert.ok(p.kind === 'query');
  assert.equal(p.query.id, 0x1234);
  assert.equal(p.query.name, 'web.berth');
  assert.equal(p.query.type, TYPE.AAAA);
  assert.equal(p.query.edns, false);
  assert.equal(p.query.udpLimit, 512);
  const big = parseQuery(query(1, 'a', TYPE.A, 65_000));
  assert.ok(big.kind === 'query' && big.query.edns && big.query.udpLimit === 1232);
  const small = parseQuery(query(1, 'a', TYPE.A, 100));
  assert.ok(small.kind === 'query' && small.query.udpLimit === 512);
  const root = parseQuery(query(1, '', TYPE.A));
  assert.ok(root.kind === 'query' && root.query.name === '');
});

test('hostile messages get FORMERR, NOTIMP or silence', () => {
  const name = nameBytes('web.berth');
  const cases: [string, Buffer, string][] = [
    ['shorter than a header', Buffer.from([1, 2, 3]), 'silent'],
    ['a response sent to the server', withHeader(1, 0x8000, [1, 0, 0, 0], Buffer.concat([name, TAIL_A])), 'silent'],
    ['an update (opcode 5)', withHeader(1, 0x2800, [1, 0, 0, 0], Buffer.concat([name, TAIL_A])), 'rcode 4'],
    ['no question', withHeader(1, 0, [0, 0, 0, 0], Buffer.alloc(0)), 'rcode 1'],
    ['two questions', withHeader(1, 0, [2, 0, 0, 0], Buffer.concat([name, TAIL_A, name, TAIL_A])), 'rcode 1'],
    ['a compression pointer loop in the question', withHeader(1, 0, [1, 0, 0, 0], Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])), 'rcode 1'],
    ['a pointer after a label', withHeader(1, 0, [1, 0, 0, 0], Buffer.from([1, 0x61, 0xc0, 0x0c, 0, 1, 0, 1])), 'rcode 1'],
    ['a label running past the end', withHeader(1, 0, [1, 0, 0, 0], Buffer.from([63, 0x61, 0x62])), 'rcode 1'],
    ['no type and class', withHeader(1, 0, [1, 0, 0, 0], name), 'rcode 1'],
    ['an extended label type (0x40)', withHeader(1, 0, [1, 0, 0, 0], Buffer.from([0x41, 0, 0, 1, 0, 1])), 'rcode 1'],
    ['a name over 255 bytes', withHeader(1, 0, [1, 0, 0, 0], Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0]), TAIL_A])), 'rcode 1'],
    ['65535 additional records claimed, none there', withHeader(1, 0, [1, 0, 0, 0xffff], Buffer.concat([name, TAIL_A])), 'rcode 1'],
    ['65535 answers claimed in a query', withHeader(1, 0, [1, 0xffff, 0, 0], Buffer.concat([name, TAIL_A])), 'rcode 1'],
    ['a record whose data runs past the end', withHeader(1, 0, [1, 0, 0, 1], Buffer.concat([name, TAIL_A, Buffer.from([0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 200])])), 'rcode 1'],
    ['two OPT records', withHeader(1, 0, [1, 0, 0, 2], Buffer.concat([name, TAIL_A, Buffer.from([0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0])])), 'rcode 1'],
  ];
  for (const [what, msg, want] of cases) assert.equal(verdict(parseQuery(msg)), want, what);
  // a 255-byte name is still a name
  const longest = Buffer.concat([...Array.from({ length: 3 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([61]), Buffer.alloc(61, 0x62), Buffer.from([0]), TAIL_A]);
  assert.equal(verdict(parseQuery(withHeader(1, 0, [1, 0, 0, 0], longest))), 'query');
});

test('a record name with a pointer loop in the additional section is skipped, never followed', () => {
  // the OPT's owner name is a pointer to itself: following it would spin
  const body = Buffer.concat([nameBytes('a'), TAIL_A]);
  const optAt = 12 + body.length;
  const opt = Buffer.from([0xc0 | (optAt >> 8), optAt & 255, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]);
  const p = parseQuery(withHeader(1, 0, [1, 0, 0, 1], Buffer.concat([body, opt])));
  assert.ok(p.kind === 'query' && p.query.edns && p.query.udpLimit === 1024);
});

test('a label holding a dot, a space or a non-ASCII byte is no name of a network (only forwarded)', () => {
  for (const label of [Buffer.from('we.b'), Buffer.from('we b'), Buffer.from([0x77, 0xe9, 0x62]), Buffer.from([0x77, 0x00])]) {
    const p = parseQuery(withHeader(1, 0, [1, 0, 0, 0], Buffer.concat([Buffer.from([label.length]), label, Buffer.from([0]), TAIL_A])));
    assert.ok(p.kind === 'query' && p.query.name === undefined, label.toString('hex'));
  }
});

test('fuzz: random and mutated messages always get a verdict, and a reply built for a query is well formed', () => {
  const seeds = [query(1, 'web.berth', TYPE.A), query(2, 'x.example', TYPE.TXT, 1232), query(3, '2.0.88.10.in-addr.arpa', TYPE.PTR)];
  for (let i = 0; i < 30_000; i++) {
    let msg: Buffer;
    if (i % 3 === 0) msg = randomBytes(randomInt(0, 600));
    else {
      msg = Buffer.from(seeds[i % seeds.length] ?? Buffer.alloc(0));
      for (let k = randomInt(1, 6); k > 0; k--) msg[randomInt(0, msg.length)] = randomInt(0, 256);
      if (i % 7 === 0) msg = msg.subarray(0, randomInt(0, msg.length));
    }
    // mostly queries (QR clear), so the mutations reach past the first check
    if (msg.length >= 4 && i % 5 !== 0) msg[2] = (msg[2] ?? 0) & 0x7f;
    const p = parseQuery(msg);
    if (p.kind !== 'query') continue;
    const a = aRecord('10.0.0.1', 600);
    const r = reply(p.query, 0, a === undefined ? [] : [a, a], 512);
    const d = decode(r);
    assert.equal(d.id, p.query.id);
    assert.ok(r.length <= 512 || d.answers.length === 0);
  }
});

test('a reply over the limit keeps the answers that fit and sets TC', () => {
  const p = parseQuery(query(9, 'many.berth', TYPE.A));
  assert.ok(p.kind === 'query');
  const records = Array.from({ length: 40 }, (_, i) => aRecord(`10.0.0.${i}`, 600) ?? Buffer.alloc(0));
  const whole = decode(reply(p.query, 0, records, 65_535));
  assert.equal(whole.answers.length, 40);
  assert.equal(whole.truncated, false);
  const cut = reply(p.query, 0, records, 512);
  assert.ok(cut.length <= 512);
  assert.equal(decode(cut).truncated, true);
  assert.equal(decode(cut).answers.length, Math.floor((512 - 12 - 16) / 16));
});

test('names for PTR answers: valid ones encoded, others refused', () => {
  assert.deepEqual([...(encodeName('web.net.') ?? [])], [3, 119, 101, 98, 3, 110, 101, 116, 0]);
  assert.equal(encodeName('a..b'), undefined);
  assert.equal(encodeName('x'.repeat(64)), undefined);
  assert.equal(encodeName(Array.from({ length: 5 }, () => 'y'.repeat(60)).join('.')), undefined);
  assert.equal(encodeName('sp ace'), undefined);
  assert.equal(reverseIpv4('4.3.2.1.in-addr.arpa'), '1.2.3.4');
  assert.equal(reverseIpv4('256.3.2.1.in-addr.arpa'), undefined);
  assert.equal(reverseIpv4('04.3.2.1.in-addr.arpa'), undefined);
  assert.equal(reverseIpv4('3.2.1.in-addr.arpa'), undefined);
  assert.equal(aRecord('10.0.0.256', 1), undefined);
});

test('the TCP frame reader: a message split anywhere, several in one chunk, nothing before it is whole', () => {
  const a = query(1, 'a.example', TYPE.A);
  const b = query(2, 'b.example', TYPE.A);
  const stream = Buffer.concat([frame(a), frame(b), frame(a).subarray(0, 5)]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const r = new FrameReader();
    const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
    assert.deepEqual(got, [a, b], `cut at ${cut}`);
    assert.equal(r.pending, 5);
  }
  const drip = new FrameReader();
  const got: Buffer[] = [];
  for (const byte of frame(b)) got.push(...drip.push(Buffer.from([byte])));
  assert.deepEqual(got, [b]);
});

test('upstreams: ip, ip:port, [v6]:port; anything else is an error naming it', () => {
  assert.deepEqual(parseUpstream('10.0.0.1'), { host: '10.0.0.1', port: 53, text: '10.0.0.1' });
  assert.deepEqual(parseUpstream('10.0.0.1:5353'), { host: '10.0.0.1', port: 5353, text: '10.0.0.1:5353' });
  assert.deepEqual(parseUpstream('fd00::1'), { host: 'fd00::1', port: 53, text: 'fd00::1' });
  assert.deepEqual(parseUpstream('[fd00::1]:54'), { host: 'fd00::1', port: 54, text: '[fd00::1]:54' });
  for (const bad of ['', 'resolver.example', '10.0.0.1:0', '10.0.0.1:70000', '10.0.0.1:x', '[10.0.0.1]:53', '[fd00::1]', '1.2.3:53']) {
    assert.throws(() => parseUpstream(bad), (err) => isBerthError(err, 'dns_upstream_invalid') && err.message.includes(`"${bad}"`), bad);
  }
});

test("the host's nameservers from resolv.conf, in order, once each", () => {
  const conf = ['# from the host', 'search corp.example', 'nameserver 127.0.0.53', 'nameserver  192.0.2.1 # office', 'nameserver fe80::1%eth0', 'nameserver not-an-ip', 'nameserver 127.0.0.53', '; nameserver 192.0.2.9', 'options edns0'].join('\n');
  assert.deepEqual(hostUpstreams(conf), ['127.0.0.53', '192.0.2.1', 'fe80::1%eth0']);
  assert.deepEqual(hostUpstreams(''), []);
});
