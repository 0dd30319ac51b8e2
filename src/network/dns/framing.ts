/**
 * DNS over TCP's framing (RFC 1035 4.2.2, RFC 7766 8): each message is
 * preceded by its length in two bytes. The reader keeps the chunks it got
 * and joins them once per message, so a peer dripping a message a byte at
 * a time costs linear work, and it holds at most one message (64 KiB) plus
 * the chunk that completed it.
 */

export class FrameReader {
  #chunks: Buffer[] = [];
  #length = 0;

  /** The complete messages that `chunk` finishes, in order. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    const out: Buffer[] = [];
    for (;;) {
      if (this.#length < 2) return out;
      const head = this.#peek(2);
      const size = head.readUInt16BE(0);
      if (this.#length < 2 + size) return out;
      const all = this.#take(2 + size);
      out.push(all.subarray(2));
    }
  }

  /** Bytes received that do not yet make a message. */
  get pending(): number {
    return this.#length;
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) return first;
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined;
  }

  #take(n: number): Buffer {
    const joined = this.#peek(n);
    this.#chunks = joined.length > n ? [joined.subarray(n)] : [];
    this.#length -= n;
    return joined.subarray(0, n);
  }
}

/** `msg` with its two-byte length in front. */
export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}
