/**
 * Docker's multiplexed stream framing (attach, exec and logs of a container
 * without a terminal): each frame is an 8-byte header, the stream's number
 * (0 stdin, 1 stdout, 2 stderr, 3 the daemon's own error), three zero bytes
 * and the payload's length as a big-endian uint32, then the payload.
 * berth-monitor speaks it on its attach socket; berthd, the logs and the
 * command line read and write it with this one codec.
 */
import { invalidArgument } from '../../errors.ts';

export const StreamType = { stdin: 0, stdout: 1, stderr: 2, systemerr: 3 } as const;
export type StreamType = (typeof StreamType)[keyof typeof StreamType];

export const FRAME_HEADER_SIZE = 8;

export interface Frame {
  stream: StreamType;
  payload: Buffer;
}

/** One frame: header and payload in one buffer (one write on the wire). */
export function encodeFrame(stream: StreamType, payload: Uint8Array | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + data.length);
  frame.writeUInt32BE(0, 0);
  frame[0] = stream;
  frame.writeUInt32BE(data.length, 4);
  frame.set(data, FRAME_HEADER_SIZE);
  return frame;
}

const isStreamType = (n: number): n is StreamType => n >= 0 && n <= 3;

/**
 * Takes the bytes as they come (split anywhere, several frames a chunk) and
 * gives back the whole frames; the rest waits for the next chunk. A header
 * that is not a frame's (unknown stream, non-zero padding) is refused: the
 * peer is not speaking this framing (a terminal's raw stream, most likely).
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Uint8Array): Frame[] {
    if (chunk.length > 0) {
      this.pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.pendingBytes += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.pendingBytes < FRAME_HEADER_SIZE) break;
      const head = this.peek(FRAME_HEADER_SIZE);
      const stream = head[0] ?? 0;
      if (!isStreamType(stream) || head[1] !== 0 || head[2] !== 0 || head[3] !== 0) {
        throw invalidArgument('stream_frame_invalid', `multiplexed stream: bad frame header ${head.toString('hex')} (stream ${stream})`);
      }
      const length = head.readUInt32BE(4);
      if (this.pendingBytes < FRAME_HEADER_SIZE + length) break;
      this.take(FRAME_HEADER_SIZE);
      frames.push({ stream, payload: this.take(length) });
    }
    return frames;
  }

  /** Bytes of a frame begun but not finished (non-zero at the end of a stream: it was cut short). */
  get buffered(): number {
    return this.pendingBytes;
  }

  private peek(n: number): Buffer {
    const first = this.pending[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.pending, this.pendingBytes).subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 && this.pending[0] !== undefined ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return out;
  }
}
