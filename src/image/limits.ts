/**
 * Size caps on what is read whole into memory (manifests, indexes, image
 * configs, an archive's manifest.json), from every transport: 4 MiB, as
 * skopeo's. A document is refused on its declared size before any byte is
 * read, and never more than the declared size is buffered: a source that
 * sends more than it declared is cut off.
 */
import { Transform } from 'node:stream';
import { failedPrecondition, invalidArgument } from '../errors.ts';
import { digestOf } from './store/digest.ts';

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u] ?? 'TiB'}`;
}

/** Refuses a document whose declared size is over `cap`. */
export function checkDeclaredSize(what: string, size: number, cap: number): void {
  if (size > cap) throw invalidArgument('too_large', `${what}: ${formatBytes(size)}, over the limit of ${formatBytes(cap)}`, { details: { size, limit: cap } });
}

/**
 * Reads a stream whole, refusing as soon as it carries more than `limit`
 * bytes (leaving the loop ends the stream); with `exact`, fewer is refused too.
 */
export async function readAtMost(source: AsyncIterable<unknown>, limit: number, what: string, exact = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const b = chunk as Buffer;
    total += b.byteLength;
    if (total > limit) {
      throw invalidArgument(exact ? 'blob_size_mismatch' : 'too_large', exact ? `${what}: more than the ${limit} bytes declared` : `${what}: more than the limit of ${formatBytes(limit)}`, {
        details: { limit },
      });
    }
    chunks.push(b);
  }
  if (exact && total !== limit) throw failedPrecondition('blob_size_mismatch', `${what}: ${total} bytes, ${limit} declared`);
  return Buffer.concat(chunks, total);
}

/** Passes a stream on, failing it as soon as it carries more than `limit` bytes (a blob longer than its descriptor says). */
export function cutOffAfter(limit: number, what: string): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.byteLength;
      if (total > limit) cb(failedPrecondition('blob_size_mismatch', `${what}: more than the ${limit} bytes declared`, { details: { limit } }));
      else cb(null, chunk);
    },
  });
}

/** A config (or other small blob) a manifest describes: size capped before reading, exactly that size read, digest checked. */
export async function readSmallBlob(source: AsyncIterable<unknown>, desc: { digest: string; size: number }, cap: number, what: string): Promise<Buffer> {
  checkDeclaredSize(what, desc.size, cap);
  const bytes = await readAtMost(source, desc.size, what, true);
  const got = digestOf(bytes);
  if (got !== desc.digest) throw failedPrecondition('blob_digest_mismatch', `${what}: content has digest ${got}`);
  return bytes;
}
