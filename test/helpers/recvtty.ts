/**
 * The console-socket receiver for terminal tests: test/helpers/recvtty.c
 * compiled with the system compiler into the test's temporary directory,
 * started on a socket there, and stopped after the test.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir, waitFor } from './runtime.ts';

export interface Recvtty {
  /** The socket to pass as --console-socket. */
  socket: string;
  /** What arrived from the terminal's master so far. */
  output(): string;
  /** recvtty's own report ("listening", "received fd char-device"). */
  log(): string;
  /** Writes to the master (with `stdin`). */
  write(data: string): void;
  /** Resolves with recvtty's exit code once the container side closed the terminal. */
  exited: Promise<number | null>;
}

export function compileRecvtty(t: TestContext): string {
  const out = join(tempDir(t, 'berth-recvtty-'), 'recvtty');
  execFileSync(process.env['CC'] ?? 'cc', ['-std=gnu11', '-O1', '-Wall', '-Wextra', '-Werror', '-o', out, join(import.meta.dirname, 'recvtty.c')]);
  return out;
}

/** Starts recvtty on a fresh socket and waits until it accepts connections. */
export async function startRecvtty(t: TestContext, options: { stdin?: boolean } = {}): Promise<Recvtty> {
  const bin = compileRecvtty(t);
  const socket = join(tempDir(t, 'berth-console-'), 'console.sock');
  const child = spawn(bin, [...(options.stdin ? ['-i'] : []), socket], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  let log = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (log += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await waitFor('recvtty to listen', () => (log.includes('listening') ? true : undefined));
  return {
    socket,
    output: () => output,
    log: () => log,
    write: (data) => {
      child.stdin.write(data);
    },
    exited,
  };
}
