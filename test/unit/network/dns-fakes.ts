/**
 * What the resolver's tests talk to: a fake upstream resolver (UDP and TCP
 * on one port of a loopback address, answering as each test says), a raw
 * UDP and TCP client that sends exact bytes, and query/record builders
 * written out byte by byte, independent of the codec under test.
 */
import { createSocket } from 'node:dgram';
import { createServer, connect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { onCleanup } from '../../helpers/cleanup.ts';
import { DnsService, type DnsServiceOptions, type ResolverZone } from '../../../src/network/dns/index.ts';

export const TYPE = { A: 1, PTR: 12, TXT: 16, AAAA: 28, OPT: 41 } as const;

/** A query for `name` of `type`, id `id`, RD set; with an OPT record announcing `edns` bytes when given. */
export function query(id: number, name: string, type: number, edns?: number): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(edns === undefined ? 0 : 1, 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  const parts = [head, nameBytes(name), tail];
  if (edns !== undefined) {
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(TYPE.OPT, 1);
    opt.writeUInt16BE(edns, 3);
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

export function nameBytes(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.').filter((l) => l !== '')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A decoded reply, read by hand here (not with the codec under test). */
export interface Reply {
  id: number;
  rcode: number;
  truncated: boolean;
  authoritative: boolean;
  counts: [number, number, number, number];
  /** The answers: type and data bytes. */
  answers: { type: number; ttl: number; data: Buffer }[];
}

function skipName(b: Buffer, at: number): number {
  let off = at;
  for (;;) {
    const len = b[off] ?? 0;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += 1 + len;
  }
}

export function decode(b: Buffer): Reply {
  const flags = b.readUInt16BE(2);
  const counts: [number, number, number, number] = [b.readUInt16BE(4), b.readUInt16BE(6), b.readUInt16BE(8), b.readUInt16BE(10)];
  let off = 12;
  for (let i = 0; i < counts[0]; i++) off = skipName(b, off) + 4;
  const answers: Reply['answers'] = [];
  for (let i = 0; i < counts[1]; i++) {
    off = skipName(b, off);
    const len = b.readUInt16BE(off + 8);
    answers.push({ type: b.readUInt16BE(off), ttl: b.readUInt32BE(off + 4), data: b.subarray(off + 10, off + 10 + len) });
    off += 10 + len;
  }
  return { id: b.readUInt16BE(0), rcode: flags & 0xf, truncated: (flags & 0x0200) !== 0, authoritative: (flags & 0x0400) !== 0, counts, answers };
}

/** The reply an upstream gives to `q`: its id and question, the answers given as [type, data] pairs. */
export function upstreamReply(q: Buffer, opts: { rcode?: number; truncated?: boolean; answers?: [number, Buffer][]; id?: number } = {}): Buffer {
  const qEnd = skipName(q, 12) + 4;
  const head = Buffer.from(q.subarray(0, 12));
  head.writeUInt16BE(opts.id ?? q.readUInt16BE(0), 0);
  head.writeUInt16BE(0x8180 | (opts.truncated === true ? 0x0200 : 0) | (opts.rcode ?? 0), 2);
  const answers = opts.answers ?? [];
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answers.length, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  const records = answers.map(([type, data]) => {
    const r = Buffer.alloc(12);
    r.writeUInt16BE(0xc00c, 0);
    r.writeUInt16BE(type, 2);
    r.writeUInt16BE(1, 4);
    r.writeUInt32BE(300, 6);
    r.writeUInt16BE(data.length, 10);
    return Buffer.concat([r, data]);
  });
  return Buffer.concat([head, q.subarray(12, qEnd), ...records]);
}

/** TXT data of strings of at most 255 bytes. */
export function txt(...strings: string[]): Buffer {
  return Buffer.concat(strings.flatMap((s) => [Buffer.from([s.length]), Buffer.from(s)]));
}

/** The name and type asked in a query, read by hand. */
export function asked(q: Buffer): { name: string; type: number } {
  const labels: string[] = [];
  let off = 12;
  for (let len = q[off] ?? 0; len !== 0; len = q[off] ?? 0) {
    labels.push(q.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  return { name: labels.join('.'), type: q.readUInt16BE(off + 1) };
}

export type Answer = (q: Buffer, transport: 'udp' | 'tcp') => Buffer | Buffer[] | undefined | Promise<Buffer | undefined>;

export interface FakeUpstream {
  /** "127.0.0.x:port" */
  readonly address: string;
  readonly seen: { transport: 'udp' | 'tcp'; name: string; type: number }[];
}

function frameOf(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

/** A resolver on `host` (UDP and TCP, one port) answering with `answer` (undefined: stays silent). */
export async function fakeUpstream(t: TestContext, host: string, answer: Answer): Promise<FakeUpstream> {
  const seen: FakeUpstream['seen'] = [];
  const v6 = host.includes(':');
  const udp = createSocket(v6 ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => {
    seen.push({ transport: 'udp', ...asked(msg) });
    void Promise.resolve(answer(msg, 'udp')).then((out) => {
      for (const r of out === undefined ? [] : Array.isArray(out) ? out : [out]) udp.send(r, rinfo.port, rinfo.address);
    });
  });
  await new Promise<void>((resolve) => udp.bind(0, host, resolve));
  const port = udp.address().port;
  const conns = new Set<Socket>();
  const tcp = createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        seen.push({ transport: 'tcp', ...asked(msg) });
        void Promise.resolve(answer(msg, 'tcp')).then((out) => {
          for (const r of out === undefined ? [] : Array.isArray(out) ? out : [out]) if (!sock.destroyed) sock.write(frameOf(r));
        });
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, host, resolve));
  onCleanup(t, async () => {
    for (const c of conns) c.destroy();
    await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
  });
  return { address: v6 ? `[${host}]:${port}` : `${host}:${port}`, seen };
}

/** Sends `msg` over UDP from a socket of its own and collects the replies until `count` arrived or `signal` aborts. */
export async function udpAsk(to: string, port: number, msg: Buffer, opts: { count?: number; signal?: AbortSignal } = {}): Promise<Buffer[]> {
  const sock = createSocket('udp4');
  const replies: Buffer[] = [];
  try {
    return await new Promise<Buffer[]>((resolve, reject) => {
      opts.signal?.addEventListener('abort', () => resolve(replies));
      sock.on('error', reject);
      sock.on('message', (m) => {
        replies.push(m);
        if (replies.length >= (opts.count ?? 1)) resolve(replies);
      });
      sock.send(msg, port, to);
    });
  } finally {
    sock.close();
  }
}

/** A TCP connection to the resolver that collects framed replies. */
export async function tcpClient(t: TestContext, to: string, port: number): Promise<{ sock: Socket; replies: Buffer[]; closed: () => boolean; send: (msgs: Buffer[]) => void }> {
  const sock = connect({ host: to, port });
  onCleanup(t, () => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => undefined);
  const replies: Buffer[] = [];
  let closed = false;
  let buf = Buffer.alloc(0);
  sock.on('close', () => (closed = true));
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
  });
  return { sock, replies, closed: () => closed, send: (msgs) => sock.write(Buffer.concat(msgs.map(frameOf))) };
}

/** A zone of fixed names on the listener at any address; sources in `refuse` are refused. */
export function fixedZone(names: Record<string, string[]>, refuse: string[] = []): ResolverZone {
  return {
    lookup: (_local, name) => (names[name] === undefined ? undefined : { ipv4: names[name] }),
    reverse: (_local, ip) => {
      const found = Object.keys(names).filter((n) => names[n]?.includes(ip));
      return found.length === 0 ? undefined : found;
    },
    allowed: (_local, source) => !refuse.includes(source),
  };
}

/** A service listening on `host` port 0, closed after the test; its port. */
export async function startService(t: TestContext, opts: DnsServiceOptions, host = '127.0.0.1'): Promise<{ dns: DnsService; port: number }> {
  const dns = DnsService.create(opts);
  onCleanup(t, () => dns.close());
  const port = await dns.listen(host, 0);
  return { dns, port };
}
