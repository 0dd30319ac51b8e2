/**
 * The DNS wire format (RFC 1035, EDNS from RFC 6891), the small part the
 * embedded resolver needs: read a query's header and its one question,
 * find its EDNS payload size, and write the few replies it makes itself
 * (A and PTR answers, an empty NOERROR, REFUSED, SERVFAIL, FORMERR,
 * NOTIMP). Forwarded queries and their replies are relayed as bytes, with
 * only the id rewritten (see upstream.ts), so nothing here decodes answers.
 *
 * Written by hand rather than with dns-packet on purpose: the resolver
 * needs about a tenth of what dns-packet decodes (every record type of
 * both directions), and what it does decode must be exact on hostile
 * input: dns-packet reads labels as UTF-8 (lossy: a label holding a dot
 * or invalid bytes becomes another name), throws plain Errors from deep
 * inside, and rebuilding a reply from its decoding would drop what it
 * does not know (EDNS options, unknown types), which a byte relay keeps.
 *
 * Every reader here is total: it returns a result or a verdict and never
 * throws on any input, however malformed; nothing follows a compression
 * pointer (a question's name comes first in a message, so a pointer there
 * can only be bogus, and the records after it are skipped, never read),
 * so a pointer loop cannot make it spin.
 */

export const HEADER_BYTES = 12;
/** The largest UDP reply without EDNS (RFC 1035 4.2.1). */
export const CLASSIC_UDP_BYTES = 512;
/** The EDNS payload size berth announces and the most it honours from a client (the DNS flag day 2020 figure). */
export const EDNS_UDP_BYTES = 1232;
export const MAX_MESSAGE_BYTES = 65_535;
const MAX_NAME_WIRE_BYTES = 255;
const MAX_LABEL_BYTES = 63;

export const RRType = { A: 1, PTR: 12, AAAA: 28, OPT: 41, ANY: 255 } as const;
const CLASS_IN = 1;
const CLASS_ANY = 255;

export const RCode = { NoError: 0, FormErr: 1, ServFail: 2, NXDomain: 3, NotImp: 4, Refused: 5 } as const;
export type RCode = (typeof RCode)[keyof typeof RCode];

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const OPCODE_MASK = 0x7800;

/** A query the resolver can act on. */
export interface Query {
  readonly id: number;
  readonly flags: number;
  /** The question section as received (name, type, class), echoed in replies as RFC 1035 asks. */
  readonly question: Buffer;
  /** The name in lowercase, no trailing dot; undefined when a label holds bytes a host name never has (such names are only forwarded). */
  readonly name: string | undefined;
  readonly type: number;
  readonly qclass: number;
  /** Whether the class is IN (or ANY), the only class answered locally. */
  readonly internet: boolean;
  /** Whether the query carried an EDNS OPT record (the reply then carries one too). */
  readonly edns: boolean;
  /** The largest UDP reply the client takes. */
  readonly udpLimit: number;
}

/**
 * What to do with a message: act on the query, answer with an error code
 * (the id known, the rest unreadable), or stay silent (too short to
 * answer, or itself a response: answering responses lets two servers
 * bounce a packet between them forever).
 */
export type Parsed =
  | { readonly kind: 'query'; readonly query: Query }
  | { readonly kind: 'error'; readonly id: number; readonly flags: number; readonly rcode: RCode }
  | { readonly kind: 'silent' };

/** The offset just past a plain (pointer-free) name starting at `at`, or -1. */
function plainNameEnd(msg: Buffer, at: number): number {
  let off = at;
  for (;;) {
    if (off >= msg.length || off - at >= MAX_NAME_WIRE_BYTES) return -1;
    const len = msg[off] ?? 0;
    if (len === 0) return off - at + 1 > MAX_NAME_WIRE_BYTES ? -1 : off + 1;
    if (len > MAX_LABEL_BYTES) return -1; // a pointer or the extended label types
    off += 1 + len;
  }
}

/** The offset just past a name in a record that is skipped, not read: labels up to a terminator or a pointer (never followed). */
function skippedNameEnd(msg: Buffer, at: number): number {
  let off = at;
  for (let labels = 0; labels < 128; labels++) {
    if (off >= msg.length) return -1;
    const len = msg[off] ?? 0;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if (len > MAX_LABEL_BYTES) return -1;
    off += 1 + len;
  }
  return -1;
}

/** The name's text in lowercase, or undefined when a label holds a dot, a space, a control or a non-ASCII byte. */
function plainNameText(msg: Buffer, at: number, end: number): string | undefined {
  const labels: string[] = [];
  let off = at;
  while (off < end - 1) {
    const len = msg[off] ?? 0;
    let label = '';
    for (let i = off + 1; i <= off + len; i++) {
      const b = msg[i] ?? 0;
      if (b <= 0x20 || b >= 0x7f || b === 0x2e) return undefined;
      label += String.fromCharCode(asciiLower(b));
    }
    labels.push(label);
    off += 1 + len;
  }
  return labels.join('.');
}

/** The end of the question section of a message whose QDCOUNT is 1, or -1. */
export function questionEnd(msg: Buffer): number {
  const nameEnd = plainNameEnd(msg, HEADER_BYTES);
  if (nameEnd < 0 || nameEnd + 4 > msg.length) return -1;
  return nameEnd + 4;
}

/** Reads a message sent to the resolver. Never throws. */
export function parseQuery(msg: Buffer): Parsed {
  if (msg.length < HEADER_BYTES || msg.length > MAX_MESSAGE_BYTES) return { kind: 'silent' };
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if ((flags & FLAG_QR) !== 0) return { kind: 'silent' };
  if ((flags & OPCODE_MASK) !== 0) return { kind: 'error', id, flags, rcode: RCode.NotImp };
  const formErr = { kind: 'error', id, flags, rcode: RCode.FormErr } as const;
  if (msg.readUInt16BE(4) !== 1) return formErr;
  const nameEnd = plainNameEnd(msg, HEADER_BYTES);
  if (nameEnd < 0 || nameEnd + 4 > msg.length) return formErr;
  const type = msg.readUInt16BE(nameEnd);
  const qclass = msg.readUInt16BE(nameEnd + 2);
  const edns = findOpt(msg, nameEnd + 4, msg.readUInt16BE(6) + msg.readUInt16BE(8), msg.readUInt16BE(10));
  if (edns === 'invalid') return formErr;
  const udpLimit = edns === undefined ? CLASSIC_UDP_BYTES : Math.min(Math.max(edns, CLASSIC_UDP_BYTES), EDNS_UDP_BYTES);
  return {
    kind: 'query',
    query: {
      id,
      flags,
      question: Buffer.from(msg.subarray(HEADER_BYTES, nameEnd + 4)),
      name: plainNameText(msg, HEADER_BYTES, nameEnd),
      type,
      qclass,
      internet: qclass === CLASS_IN || qclass === CLASS_ANY,
      edns: edns !== undefined,
      udpLimit,
    },
  };
}

/**
 * Skips the answer and authority records and walks the additional ones
 * for an OPT record: its payload size, undefined without one, 'invalid'
 * when a record runs past the end or there are two OPTs (RFC 6891 6.1.1).
 */
function findOpt(msg: Buffer, start: number, before: number, additional: number): number | undefined | 'invalid' {
  // Each record is at least 11 bytes: a count beyond what fits is a lie, refused before any loop.
  if ((before + additional) * 11 > msg.length - start) return 'invalid';
  let off = start;
  let size: number | undefined;
  for (let i = 0; i < before + additional; i++) {
    const nameEnd = skippedNameEnd(msg, off);
    if (nameEnd < 0 || nameEnd + 10 > msg.length) return 'invalid';
    const type = msg.readUInt16BE(nameEnd);
    const rdEnd = nameEnd + 10 + msg.readUInt16BE(nameEnd + 8);
    if (rdEnd > msg.length) return 'invalid';
    if (i >= before && type === RRType.OPT) {
      if (size !== undefined) return 'invalid';
      size = msg.readUInt16BE(nameEnd + 2);
    }
    off = rdEnd;
  }
  return size;
}

function header(id: number, flags: number, counts: readonly [number, number, number, number]): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => h.writeUInt16BE(c, 4 + 2 * i));
  return h;
}

/** The flags of a reply berth makes: QR, the query's opcode and RD, RA (it recurses through its upstreams), the rcode. */
function replyFlags(queryFlags: number, rcode: RCode, authoritative: boolean): number {
  return FLAG_QR | (queryFlags & (OPCODE_MASK | FLAG_RD)) | FLAG_RA | (authoritative ? FLAG_AA : 0) | rcode;
}

/** An error reply to a message whose question could not be read: the header alone. */
export function errorReply(id: number, queryFlags: number, rcode: RCode): Buffer {
  return header(id, replyFlags(queryFlags, rcode, false), [0, 0, 0, 0]);
}

/** An OPT record announcing berth's payload size, no options, version 0. */
function optRecord(): Buffer {
  const r = Buffer.alloc(11);
  r.writeUInt16BE(RRType.OPT, 1);
  r.writeUInt16BE(EDNS_UDP_BYTES, 3);
  return r;
}

/**
 * A reply to `query` with `answers` (records made by aRecord/ptrRecord),
 * cut to `limit` bytes: answers that do not fit are left out and TC set,
 * so the client asks again over TCP.
 */
export function reply(query: Query, rcode: RCode, answers: readonly Buffer[], limit: number, authoritative = false): Buffer {
  const opt = query.edns ? [optRecord()] : [];
  const fixed = HEADER_BYTES + query.question.length + (opt[0]?.length ?? 0);
  const kept: Buffer[] = [];
  let size = fixed;
  for (const a of answers) {
    if (size + a.length > limit) break;
    kept.push(a);
    size += a.length;
  }
  const truncated = kept.length < answers.length ? FLAG_TC : 0;
  const h = header(query.id, replyFlags(query.flags, rcode, authoritative) | truncated, [1, kept.length, 0, opt.length]);
  return Buffer.concat([h, query.question, ...kept, ...opt]);
}

/** The start of an answer record for the question's name (a pointer to offset 12), its type, IN and `ttl`. */
function recordHead(type: number, ttl: number, rdLength: number): Buffer {
  const r = Buffer.alloc(12);
  r.writeUInt16BE(0xc000 | HEADER_BYTES, 0);
  r.writeUInt16BE(type, 2);
  r.writeUInt16BE(CLASS_IN, 4);
  r.writeUInt32BE(ttl, 6);
  r.writeUInt16BE(rdLength, 10);
  return r;
}

/** An A record for the question's name; undefined when `ipv4` is not a dotted quad. */
export function aRecord(ipv4: string, ttl: number): Buffer | undefined {
  const octets = ipv4Octets(ipv4);
  return octets === undefined ? undefined : Buffer.concat([recordHead(RRType.A, ttl, 4), Buffer.from(octets)]);
}

/** A PTR record for the question's name pointing at `target`; undefined when `target` is no valid name. */
export function ptrRecord(target: string, ttl: number): Buffer | undefined {
  const name = encodeName(target);
  return name === undefined ? undefined : Buffer.concat([recordHead(RRType.PTR, ttl, name.length), name]);
}

/** `web.net` as wire labels ending in the root; undefined for an empty label, a label over 63 bytes or a name over 255. */
export function encodeName(text: string): Buffer | undefined {
  const trimmed = text.endsWith('.') ? text.slice(0, -1) : text;
  if (trimmed === '') return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of trimmed.split('.')) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > MAX_LABEL_BYTES || /[^\x21-\x7e]/.test(label)) return undefined;
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  return wire.length > MAX_NAME_WIRE_BYTES ? undefined : wire;
}

/** The four octets of a dotted quad without leading zeros, or undefined. */
export function ipv4Octets(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

/** `4.3.2.1.in-addr.arpa` as `1.2.3.4`; undefined for any other name. */
export function reverseIpv4(name: string): string | undefined {
  const m = /^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return ipv4Octets(ip) === undefined ? undefined : ip;
}

/** Fields of a reply's header. */
export function replyHeader(msg: Buffer): { id: number; response: boolean; truncated: boolean; rcode: number } | undefined {
  if (msg.length < HEADER_BYTES) return undefined;
  const flags = msg.readUInt16BE(2);
  return { id: msg.readUInt16BE(0), response: (flags & FLAG_QR) !== 0, truncated: (flags & FLAG_TC) !== 0, rcode: flags & 0xf };
}

/** A reply cut to its header and question with TC set, for a UDP client when the whole reply is larger than it takes. */
export function truncatedCopy(msg: Buffer, questionEndAt: number): Buffer {
  const cut = Buffer.from(msg.subarray(0, questionEndAt));
  cut.writeUInt16BE(cut.readUInt16BE(2) | FLAG_TC, 2);
  cut.writeUInt16BE(0, 6);
  cut.writeUInt16BE(0, 8);
  cut.writeUInt16BE(0, 10);
  return cut;
}

/** Whether two question sections name the same question, ASCII case folded (a server may echo 0x20-randomised case either way). */
export function sameQuestion(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    // the name folded, its type and class (the last four bytes) exact
    if (x !== y && (i >= a.length - 4 || asciiLower(x) !== asciiLower(y))) return false;
  }
  return true;
}

function asciiLower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
}

/** A copy of `msg` with its id replaced. */
export function withId(msg: Buffer, id: number): Buffer {
  const copy = Buffer.from(msg);
  copy.writeUInt16BE(id, 0);
  return copy;
}
