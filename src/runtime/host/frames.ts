/**
 * The framing of the sync protocol, on the executor's socket and on the
 * front's: type:u32 len:u32 payload, little-endian (native/sync.c speaks the
 * same). One writer and one reader for both hosts.
 */
import { PLAN_MAX_BYTES } from '../plan/opcodes.ts';

export function frame(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(payload.length, 4);
  out.set(payload, 8);
  return out;
}

/** Cuts a byte stream into frames; a length beyond PLAN_MAX_BYTES means the peer is not speaking the protocol. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  /**
   * Delivers each whole frame the chunk completes, until onFrame returns false (the rest stays, see
   * rest()); false when the stream is not the protocol (nothing more is delivered).
   */
  push(chunk: Buffer, onFrame: (type: number, payload: Buffer) => unknown): boolean {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (this.#buf.length >= 8) {
      const len = this.#buf.readUInt32LE(4);
      if (len > PLAN_MAX_BYTES) return false;
      if (this.#buf.length < 8 + len) break;
      const type = this.#buf.readUInt32LE(0);
      const payload = this.#buf.subarray(8, 8 + len);
      this.#buf = this.#buf.subarray(8 + len);
      if (onFrame(type, payload) === false) break;
    }
    return true;
  }

  /** What came after the frames delivered: the start of the next reader's stream. */
  rest(): Buffer {
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }
}
