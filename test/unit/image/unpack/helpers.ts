import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import type { TestContext } from 'node:test';
import { tempDir as sharedTempDir } from '../../../helpers/cleanup.ts';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { unpackLayers, type LayerSource, type UnpackLayerResult, type UnpackOptions } from '../../../../src/image/unpack/index.ts';
import { isBerthError } from '../../../../src/errors.ts';

/** A temporary directory removed after the test (also when it fails). */
export function tempDir(t: TestContext, prefix = 'berth-unpack-'): string {
  return sharedTempDir(t, prefix);
}

export type Compress = 'gzip' | 'zstd' | 'none';

export function compress(tar: Buffer, how: Compress): Buffer {
  if (how === 'gzip') return gzipSync(tar);
  if (how === 'zstd') return zstdCompressSync(tar);
  return tar;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Layer sources over in-memory tars, compressed as asked; the digest names each. */
export function layersOf(tars: Buffer[], how: Compress = 'gzip'): LayerSource[] {
  return tars.map((tar) => {
    const blob = compress(tar, how);
    return {
      digest: sha(blob),
      mediaType: how === 'none' ? 'application/vnd.oci.image.layer.v1.tar' : `application/vnd.oci.image.layer.v1.tar+${how}`,
      diffId: sha(tar),
      open: () => Readable.from([blob]),
    };
  });
}

/** Unpacks tars into a fresh `rootfs` directory inside `dir`. */
export async function unpackInto(dir: string, tars: Buffer[], options: UnpackOptions = {}, how: Compress = 'gzip'): Promise<{ rootfs: string; results: UnpackLayerResult[] }> {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  const results = await unpackLayers(rootfs, layersOf(tars, how), options);
  return { rootfs, results };
}

/** Asserts a BerthError with this code whose message names the layer and the entry. */
export async function assertUnpackError(p: Promise<unknown>, code: string, entry: string | undefined, pattern?: RegExp): Promise<Error> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(isBerthError(caught), `expected a BerthError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, /^layer sha256:[0-9a-f]{64}: /);
  if (entry !== undefined) assert.ok(caught.message.includes(`entry "${entry}"`), caught.message);
  if (pattern !== undefined) assert.match(caught.message, pattern);
  return caught;
}

export const isRoot = process.geteuid?.() === 0;
