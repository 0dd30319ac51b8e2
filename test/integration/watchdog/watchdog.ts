/**
 * Runs build/berth-watchdog on the host for a test (port 0: it logs the
 * port it took) and talks to it: Node's http client for well-formed
 * requests, a raw socket for the ones no client would send. Everything
 * started here is killed and awaited after the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { onCleanup } from '../../helpers/cleanup.ts';
import { REPO, waitFor as until } from '../../helpers/runtime.ts';

export { until };

export const WATCHDOG = join(REPO, 'build', 'berth-watchdog');

export interface Watchdog {
  proc: ChildProcess;
  pid: number;
  port: number;
  /** What it logged so far. */
  log(): string;
  /** Resolves with its exit code (or signal name) once it has exited. */
  exited: Promise<number | string>;
}

/** Starts the watchdog with `env` (on top of port=0, suppress_lock=true and PATH) and waits for its port. */
export async function startWatchdog(t: TestContext, env: Record<string, string>, command: string[] = [WATCHDOG]): Promise<Watchdog> {
  const proc = spawn(command[0]!, command.slice(1), {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', port: '0', suppress_lock: 'true', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => (text += d));
  // 'close', not 'exit': by then all it wrote to stderr has been read.
  const exited = new Promise<number | string>((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  onCleanup(t, async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
  const port = await until('the watchdog to listen', () => {
    const m = /listening on port (\d+)/.exec(text);
    if (m) return Number(m[1]);
    if (proc.exitCode !== null) throw new Error(`the watchdog exited ${proc.exitCode}: ${text}`);
    return undefined;
  });
  return { proc, pid: proc.pid!, port, log: () => text, exited };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  reused: boolean;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | (string | Buffer)[];
  agent?: Agent;
  /** 127.0.0.1 unless given. */
  host?: string;
}

/** One request; a body given as an array is sent in those pieces, chunked. */
export function request(port: number, path: string, o: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: o.host ?? '127.0.0.1', port, path, method: o.method ?? (o.body === undefined ? 'GET' : 'POST'), headers: o.headers, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(o.body)) for (const piece of o.body) req.write(piece);
    else if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** Sends raw bytes and returns all the server sent until it closed the connection (or `ms` passed: then `timedOut`). */
export function raw(port: number, bytes: string | Buffer, ms = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => {
      // A reset after the answer is still a closed connection.
      if (e.code !== 'ECONNRESET') reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
    s.write(bytes);
  });
}

/** A shell script in a temporary directory under `base`, run as `sh PATH` (the watchdog splits fprocess on spaces, no shell). */
export function script(t: TestContext, body: string, base = tmpdir()): { fprocess: string; dir: string } {
  const dir = mkdtempSync(join(base, 'berth-wd-'));
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fn.sh');
  writeFileSync(file, body);
  chmodSync(file, 0o755);
  return { fprocess: `sh ${file}`, dir };
}

/** The watchdog's open descriptors and resident memory (KiB), from /proc. */
export function usage(pid: number): { fds: number; rssKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]) };
}

/** A port nothing listens on now (taken and released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
