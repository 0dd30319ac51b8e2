/**
 * The client's side of an attached container, as docker's CLI does it:
 * the hijacked connection's output demultiplexed to this process's stdout
 * and stderr (raw with a terminal), this process's stdin sent when asked
 * (its end closes the container's stdin), the terminal put in raw mode and
 * its size passed on (at the start and at each SIGWINCH).
 */
import type { Socket } from 'node:net';
import type { ApiClient } from '../../../../api/client.ts';
import { unavailable } from '../../../../errors.ts';
import { FrameDecoder, StreamType } from '../../../../engine/monitor/frames.ts';

export interface AttachIo {
  stdin: boolean;
  tty: boolean;
}

/** Demultiplexes Docker's stream framing; returns the function to feed with bytes. */
export function demux(out: (b: Buffer) => void, err: (b: Buffer) => void): (b: Buffer) => void {
  const frames = new FrameDecoder();
  return (b: Buffer) => {
    for (const f of frames.push(b)) (f.stream === StreamType.stderr ? err : out)(f.payload);
  };
}

/** The API path of a container (by name or ID) and an action under it. */
export const containerPath = (name: string, action = ''): string => `/containers/${encodeURIComponent(name)}${action}`;

/** Where a container's output goes: this process's stdout and stderr unless given. */
export interface OutputSink {
  out: (b: Buffer) => void;
  err: (b: Buffer) => void;
}

/** Streams the connection until it ends; resolves then. */
export function pump(
  client: ApiClient,
  id: string,
  socket: Socket,
  io: AttachIo,
  resizePath = `/containers/${id}/resize`,
  sink: OutputSink = { out: (b) => void process.stdout.write(b), err: (b) => void process.stderr.write(b) },
): { done: Promise<void>; resized: () => Promise<void> } {
  const stdout = process.stdout;
  const feed = io.tty ? sink.out : demux(sink.out, sink.err);
  socket.on('data', feed);
  const stdin = process.stdin;
  const raw = io.tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const resized = async (): Promise<void> => {
    if (!io.tty || !stdout.isTTY) return;
    await client.request('POST', resizePath, { query: { h: stdout.rows, w: stdout.columns } }).catch(() => undefined);
  };
  const onWinch = (): void => void resized();
  if (io.tty && stdout.isTTY) process.on('SIGWINCH', onWinch);
  if (io.stdin) {
    stdin.on('data', (b: Buffer) => socket.write(b));
    stdin.on('end', () => socket.end());
  }
  const done = new Promise<void>((resolve) => {
    const finish = (): void => {
      if (raw) stdin.setRawMode(false);
      if (io.stdin) stdin.pause();
      process.off('SIGWINCH', onWinch);
      resolve();
    };
    socket.on('close', finish);
    socket.on('error', finish);
  });
  return { done, resized };
}

/** Starts a wait on the daemon and returns once the daemon has it (its head came): the exit code follows. */
export async function waitFor(client: ApiClient, id: string, condition: 'next-exit' | 'removed' | 'not-running'): Promise<{ exit: Promise<{ code: number; error?: string }> }> {
  const res = await client.open('POST', `/containers/${id}/wait`, { query: { condition } });
  const exit = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString();
    if ((res.statusCode ?? 0) >= 400) {
      const { errorFromAnswer } = await import('../../../../api/client.ts');
      throw errorFromAnswer(res.statusCode ?? 0, text, 'wait');
    }
    if (text.trim() === '') throw unavailable('daemon_unavailable', `container "${id}": berthd ended the wait before the container stopped (it was stopped or restarted; the container goes on)`);
    const body = JSON.parse(text.trim()) as { StatusCode: number; Error?: { Message: string } };
    return { code: body.StatusCode, ...(body.Error ? { error: body.Error.Message } : {}) };
  })();
  // Settled by whoever awaits it; a failure before then is not unhandled.
  exit.catch(() => undefined);
  return { exit };
}
