/**
 * Attaches to a container through its monitor's RUN/attach socket: output
 * arrives framed like Docker's multiplexed stream (8-byte header: stream
 * 1 or 2, three zero bytes, big-endian length) or raw with a terminal;
 * what is written goes to the container's stdin. Resize goes to RUN/ctl.
 */
import { appendFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { FrameDecoder, StreamType } from './frames.ts';

export interface Attached {
  socket: Duplex;
  /** Sends bytes to the container's stdin (when the monitor holds it). */
  write(data: string | Buffer): void;
  /** Ends the input (the container's stdin closes with --stdin-once); output goes on arriving. */
  endInput(): void;
  close(): void;
  /** Settles when the attachment ends: undefined at the monitor's end, or the error that ended it. */
  closed: Promise<Error | undefined>;
}

/** Serves an attachment over a connected socket: RUN/attach's, or the one the monitor got with --attach-fd. */
export function attachSocket(socket: Duplex, onOutput: (stream: 'stdout' | 'stderr', bytes: Buffer) => void, terminal = false): Attached {
  const frames = new FrameDecoder();
  socket.on('data', (b: Buffer) => {
    if (terminal) return onOutput('stdout', b);
    for (const f of frames.push(b)) onOutput(f.stream === StreamType.stderr ? 'stderr' : 'stdout', f.payload);
  });
  socket.resume();
  // A monitor that exits with input of ours unread resets the connection: the end of the attachment.
  const closed = new Promise<Error | undefined>((done) => {
    if (socket.destroyed) return done(socket.errored ?? undefined);
    socket.once('error', done);
    socket.once('close', () => done(undefined));
  });
  return { socket, write: (d) => socket.write(d), endInput: () => socket.end(), close: () => socket.destroy(), closed };
}

export function attach(runDir: string, onOutput: (stream: 'stdout' | 'stderr', bytes: Buffer) => void, terminal = false): Promise<Attached> {
  const socket = connect(join(runDir, 'attach'));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(attachSocket(socket, onOutput, terminal));
    });
  });
}

/** Sets the terminal's size (the monitor applies it with TIOCSWINSZ on the master). */
export function resize(runDir: string, rows: number, cols: number): void {
  appendFileSync(join(runDir, 'ctl'), `resize ${rows} ${cols}\n`);
}
