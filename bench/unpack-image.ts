/**
 * The benchmark image of bench/unpack.ts: ~200 MB in 5 gzip layers, many
 * small files and a few large ones, generated deterministically (a seeded
 * PRNG) into an OCI layout and cached under the directory given.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OciLayoutWriter, type LayoutImage } from '../test/unit/image/unpack/fixtures/oci-layout.ts';
import type { WriteEntry } from '../test/unit/image/unpack/fixtures/tar-writer.ts';

const VERSION = 'v1';
export const BENCH_TAG = 'bench';

/** xorshift32: the same bytes on every machine. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A pool of text-like bytes (64 symbols, compresses to about 3/4) that files take slices of. */
function pool(size: number): Buffer {
  const next = prng(42);
  const alphabet = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n');
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = alphabet[next() & 63] ?? 32;
  return b;
}

function* smallFiles(layer: number, count: number, data: Buffer, next: () => number): Generator<WriteEntry> {
  const perDir = 50;
  for (let i = 0; i < count; i++) {
    const d = `l${layer}/d${Math.floor(i / perDir / 20)}/s${Math.floor(i / perDir)}`;
    if (i % (perDir * 20) === 0) yield { name: `l${layer}/d${Math.floor(i / perDir / 20)}`, type: 'dir' };
    if (i % perDir === 0) yield { name: d, type: 'dir' };
    const size = next() % 5000;
    const off = next() % (data.length - size);
    yield { name: `${d}/f${i}.txt`, data: data.subarray(off, off + size), mode: i % 7 === 0 ? 0o755 : 0o644 };
    if (i % 500 === 0) yield { name: `${d}/link${i}`, type: 'symlink', linkname: `f${i}.txt` };
  }
}

function* large(layer: number, sizes: number[], data: Buffer): Generator<WriteEntry> {
  yield { name: `big${layer}`, type: 'dir' };
  for (const [i, size] of sizes.entries()) {
    const parts: Buffer[] = [];
    for (let n = 0; n < size; n += data.length) parts.push(data.subarray(0, Math.min(data.length, size - n)));
    // Rotate each copy so gzip cannot just repeat the pool.
    const b = Buffer.concat(parts);
    for (let j = 0; j < b.length; j += 4096) b[j] = (i + j) & 0xff;
    yield { name: `big${layer}/blob${i}.bin`, data: b };
  }
}

/** Builds (or reuses) the benchmark image under `cacheDir`. */
export async function benchImage(cacheDir: string): Promise<LayoutImage> {
  const dir = join(cacheDir, `image-${VERSION}`);
  const stamp = join(dir, 'image.json');
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8')) as LayoutImage;
  rmSync(dir, { recursive: true, force: true });
  const data = pool(4 * 1024 * 1024);
  const w = new OciLayoutWriter(dir);
  const next = prng(7);
  await w.addLayer(smallFiles(1, 16_000, data, next));
  await w.addLayer([...smallFiles(2, 8_000, data, next), ...large(2, [30_000_000], data)]);
  await w.addLayer([...smallFiles(3, 8_000, data, next), { name: 'l1/.wh.d0' }, { name: 'l2/d1/.wh..wh..opq' }]);
  await w.addLayer(large(4, [35_000_000, 35_000_000], data));
  await w.addLayer(smallFiles(5, 8_000, data, next));
  const image = w.finish(BENCH_TAG, { Cmd: ['/bin/sh'], Env: ['PATH=/usr/bin:/bin'] });
  writeFileSync(stamp, JSON.stringify(image));
  return image;
}
