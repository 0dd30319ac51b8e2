/**
 * Unpacks one layer blob into a Rootfs: decompress (zlib's thread pool) →
 * tar reader → applier, chunk by chunk, so memory stays at one chunk however
 * large the layer. The uncompressed stream is hashed on the way and checked
 * against the diff_id when one is given.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { invalidArgument } from '../../errors.ts';
import { LayerStream } from './decompress.ts';
import { LayerApplier } from './layer-applier.ts';
import { LIMIT_VARIABLES, resolveOptions, type UnpackOptions } from './options.ts';
import type { Rootfs } from './rootfs.ts';
import { TarReader } from './tar-reader.ts';
import { inheritLowerDirs } from './lower-dirs.ts';
import { MergedView } from './merged-view.ts';

export interface LayerBlob {
  /** The blob's digest; names the layer in errors. */
  digest: string;
  mediaType?: string;
  /** The uncompressed digest from the image config (rootfs.diff_ids). */
  diffId?: string;
}

export interface UnpackLayerResult {
  digest: string;
  diffId: string;
  entries: number;
  /** Uncompressed bytes of the tar stream. */
  bytes: number;
  /** What was skipped and why (xattrs the file system refused). */
  warnings: string[];
}

/** `input` is the compressed blob, or a LayerStream already started on it. */
export async function unpackLayer(root: Rootfs, blob: LayerBlob, input: Readable | LayerStream, options: UnpackOptions = {}): Promise<UnpackLayerResult> {
  const stream = input instanceof LayerStream ? input : new LayerStream(input, blob.digest, blob.mediaType);
  const opts = resolveOptions(options);
  const label = blob.digest;
  using view = new MergedView(root.fd, opts.whiteouts === 'overlay' ? opts.lowerDirs : [], opts.whiteouts === 'overlay' ? opts.overlayXattrPrefix : undefined);
  const applier = new LayerApplier(root, opts, label, view);
  using _lowers = inheritLowerDirs(root, view.lowers, opts.chown, (path, fd) => applier.noteDir(path, fd));
  const reader = new TarReader(applier, label);
  const hash = createHash('sha256');
  const { maxLayerBytes, maxImageBytes } = opts.limits;
  const tally = opts.tally;
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      bytes += chunk.length;
      tally.bytes += chunk.length;
      if (bytes > maxLayerBytes) {
        throw applier.fail(invalidArgument('unpack.limit', `uncompressed layer exceeds ${maxLayerBytes} bytes (limit, ${LIMIT_VARIABLES.maxLayerBytes})`));
      }
      if (tally.bytes > maxImageBytes) {
        throw applier.fail(invalidArgument('unpack.limit', `uncompressed image exceeds ${maxImageBytes} bytes (limit, ${LIMIT_VARIABLES.maxImageBytes})`));
      }
      hash.update(chunk);
      reader.push(chunk);
    }
    reader.end();
    applier.finish();
  } catch (err) {
    stream.cancel();
    throw err;
  } finally {
    applier.abort();
  }
  const diffId = `sha256:${hash.digest('hex')}`;
  const expected = options.diffId ?? blob.diffId;
  if (expected !== undefined && expected !== diffId) {
    throw invalidArgument('unpack.diff_id', `layer ${label}: uncompressed content is ${diffId}, the image config says ${expected}`);
  }
  return { digest: blob.digest, diffId, entries: applier.entries, bytes, warnings: applier.warnings };
}
