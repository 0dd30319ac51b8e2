/**
 * Asking an upstream resolver: one exchange over UDP or TCP, bounded in
 * time and cancellable. Each UDP exchange has its own socket, connected to
 * the upstream (the kernel then drops datagrams from anyone else) on a
 * random port, and a fresh random id: a spoofed reply must guess both, the
 * defence RFC 5452 asks of a forwarder. A reply counts only when it is a
 * response with that id and the same question; anything else is ignored
 * until the time is up.
 */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP, isIPv6, connect } from 'node:net';
import { invalidArgument } from '../../errors.ts';
import { FrameReader, frame } from './framing.ts';
import { questionEnd, replyHeader, sameQuestion, withId } from './wire.ts';

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** As given, for logs. */
  readonly text: string;
}

const DNS_PORT = 53;

/** `1.1.1.1`, `10.0.0.1:5353`, `fe80::1`, `[fd00::1]:53` as an upstream. */
export function parseUpstream(text: string): Upstream {
  const bad = (why: string) => invalidArgument('dns_upstream_invalid', `dns upstream "${text}": ${why}`, { details: { upstream: text } });
  if (isIP(text) !== 0) return { host: text, port: DNS_PORT, text };
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:([0-9]+)$/.exec(text);
  if (v6) {
    host = v6[1] ?? '';
    portText = v6[2] ?? '';
    if (!isIPv6(host)) throw bad('not an IPv6 address in brackets');
  } else {
    const colon = text.lastIndexOf(':');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (colon < 0 || isIP(host) !== 4) throw bad('expected "ip", "ip:port" or "[ipv6]:port"');
  }
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : 0;
  if (port < 1 || port > 65_535) throw bad(`port "${portText}" is not 1 to 65535`);
  return { host, port, text };
}

/** Why an exchange gave no reply. */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
}

/** Runs `start` until it settles, `timeoutMs` passes or `signal` aborts; `stop` releases what it opened in every case. */
function bounded(timeoutMs: number, signal: AbortSignal, what: string, start: (done: (reply: Buffer) => void, fail: (err: Error) => void) => () => void): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (signal.aborted) {
      reject(new ExchangeError(`${what}: cancelled`));
      return;
    }
    let settled = false;
    let stop: () => void = () => undefined;
    const finish = (err: Error | undefined, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      stop();
      if (err !== undefined) reject(err);
      else if (reply !== undefined) resolve(reply);
    };
    const onAbort = () => finish(new ExchangeError(`${what}: cancelled`));
    const timer = setTimeout(() => finish(new ExchangeError(`${what}: no reply in ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort);
    stop = start(
      (reply) => finish(undefined, reply),
      (err) => finish(new ExchangeError(`${what}: ${err.message}`, { cause: err })),
    );
    if (settled) stop();
  });
}

/** Whether `reply` answers `query` sent with `id`. */
function answers(reply: Buffer, id: number, question: Buffer): boolean {
  const h = replyHeader(reply);
  if (h === undefined || !h.response || h.id !== id || reply.readUInt16BE(4) !== 1) return false;
  const end = questionEnd(reply);
  return end > 0 && sameQuestion(reply.subarray(12, end), question);
}

/** One query over UDP; the reply carries the upstream's id (the caller puts the client's back). */
export function udpExchange(up: Upstream, query: Buffer, question: Buffer, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  const id = randomInt(0, 65_536);
  const sent = withId(query, id);
  return bounded(timeoutMs, signal, `${up.text} over UDP`, (done, fail) => {
    const sock = createSocket(isIPv6(up.host) ? 'udp6' : 'udp4');
    let closed = false;
    sock.on('error', fail);
    sock.on('message', (msg) => {
      if (answers(msg, id, question)) done(msg);
    });
    sock.connect(up.port, up.host, () => {
      // cancelled while connecting: sending on the closed socket would throw out of this callback
      if (!closed) sock.send(sent, (err) => err && fail(err));
    });
    return () => {
      closed = true;
      sock.close();
    };
  });
}

/** One query over TCP, a connection of its own. */
export function tcpExchange(up: Upstream, query: Buffer, question: Buffer, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  const id = randomInt(0, 65_536);
  const sent = frame(withId(query, id));
  return bounded(timeoutMs, signal, `${up.text} over TCP`, (done, fail) => {
    const reader = new FrameReader();
    const sock = connect({ host: up.host, port: up.port });
    sock.on('error', fail);
    sock.on('connect', () => sock.write(sent));
    sock.on('data', (chunk: Buffer) => {
      for (const msg of reader.push(chunk)) if (answers(msg, id, question)) done(msg);
    });
    sock.on('end', () => fail(new Error('closed without a reply')));
    return () => sock.destroy();
  });
}
