/**
 * What every host that spawns an executor shares: the plan in an unlinked
 * file the executor reads at once, and the sync protocol on a socket whose
 * other end the executor holds (spawn.ts spawns the executor itself, the
 * engine's monitor host has berth-monitor exec it).
 */
import { closeSync, constants, existsSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { frame, FrameReader } from './frames.ts';
import type { ExecutorLink, ExitStatus } from './host.ts';

let planCounter = 0;

/** An unlinked file holding the plan, on a tmpfs when the machine has one; the caller closes the fd. */
export function planFile(bytes: Uint8Array): number {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = join(dir, `.berth-plan-${process.pid}-${planCounter++}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    unlinkSync(path);
    writeSync(fd, bytes);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

export interface LinkParts {
  sock: Socket;
  pid: Promise<number>;
  exited: Promise<ExitStatus>;
  stdout: Readable | null;
  stderr: Readable | null;
}

/** The ExecutorLink over an executor's sync socket. */
export function socketLink({ sock, pid, exited, stdout, stderr }: LinkParts): ExecutorLink {
  const reader = new FrameReader();
  let closed = false;
  return {
    pid,
    exited,
    stdout,
    stderr,
    send: (type, payload) => {
      if (!closed) sock.write(frame(type, payload));
    },
    listen: (onMessage, onEnd) => {
      sock.on('data', (chunk: Buffer) => {
        // Not the executor speaking: the driver reports an unknown message and gives up.
        if (!reader.push(chunk, (type, payload) => closed || onMessage(type, payload))) onMessage(0, Buffer.alloc(0));
      });
      sock.on('error', () => undefined);
      sock.on('close', () => {
        if (!closed) onEnd();
      });
    },
    close: () => {
      closed = true;
      sock.destroy();
    },
  };
}
