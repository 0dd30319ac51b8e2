/**
 * A command's output written straight to its descriptor. process.stdout
 * and process.stderr load the stream machinery on first use (node:net for
 * a pipe, node:tty for a terminal), which costs a short command like
 * `state` a few milliseconds of its start-up; a synchronous write does not.
 * When the descriptor cannot take everything (a full non-blocking pipe) or
 * fails (the reader went away), the rest goes through the stream, which
 * queues it or reports the error as it always did, and the stream carries
 * everything after, so nothing is reordered.
 */
import { writeSync } from 'node:fs';

export class DirectWriter {
  readonly #fd: number;
  readonly #open: () => NodeJS.WriteStream;
  #stream: NodeJS.WriteStream | undefined;

  constructor(fd: number, open: () => NodeJS.WriteStream) {
    this.#fd = fd;
    this.#open = open;
  }

  /** The stream, once a write needed it. */
  get stream(): NodeJS.WriteStream | undefined {
    return this.#stream;
  }

  write(text: string): void {
    if (this.#stream !== undefined) {
      this.#stream.write(text);
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.#fd, bytes, done);
      return;
    } catch {
      // EAGAIN, EPIPE and the like: the stream deals with them as before.
    }
    this.#stream = this.#open();
    this.#stream.write(bytes.subarray(done));
  }
}

/**
 * process.stdout or process.stderr once something made it, found without making it (Node makes
 * them on first use): the property's getter is wrapped to remember the stream it gave.
 */
export function madeStream(name: 'stdout' | 'stderr'): () => NodeJS.WriteStream | undefined {
  const desc = Object.getOwnPropertyDescriptor(process, name);
  if (desc?.get === undefined) {
    const stream = process[name];
    return () => stream;
  }
  const { get } = desc as { get: (this: NodeJS.Process) => NodeJS.WriteStream };
  let made: NodeJS.WriteStream | undefined;
  Object.defineProperty(process, name, { ...desc, get: () => (made ??= get.call(process)) });
  return () => made;
}
