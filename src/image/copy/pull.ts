/**
 * Pulling into the store, optionally unpacking at the same time: layers
 * download in parallel into the store, and the unpacker applies each one
 * (in order, as it must) as soon as that layer is complete, reading it from
 * the store while later layers are still arriving. The result is the image
 * record and, with `unpackTo`, a runnable bundle (rootfs + config.json).
 */
import { internal } from '../../errors.ts';
import type { Readable } from 'node:stream';
import type { Descriptor, ImageConfig, Platform } from '../../oci/image-spec.ts';
import type { BundleResult } from '../bundle/index.ts';
import type { ProgressSink } from '../progress/events.ts';
import { formatReference, repositoryName, type ImageReference } from '../registry/reference.ts';
import type { ImageRecord, ImageStore } from '../store/store.ts';
import { registryClient, RegistrySource, type RegistryOptions } from '../transport/docker.ts';
import { StoreDestination } from '../transport/store.ts';
import { copyImage, type ResolvedImage } from './copy.ts';

export interface PullOptions {
  platform?: Platform;
  progress?: ProgressSink;
  concurrency?: number;
  registry?: RegistryOptions;
  /** Also unpack the image as a bundle into this directory (must not exist or be empty). */
  unpackTo?: string;
}

export interface PullResult {
  image: ImageRecord;
  bundle?: BundleResult;
}

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits (no unpacking) must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Blobs as they complete in the store, for an unpacker that waits on them. */
class BlobArrivals {
  private readonly waiters = new Map<string, Waiter>();
  private failure: unknown;

  private get(digest: string): Waiter {
    let w = this.waiters.get(digest);
    if (w === undefined) {
      w = waiter();
      if (this.failure !== undefined) w.reject(this.failure);
      this.waiters.set(digest, w);
    }
    return w;
  }

  arrived(desc: Descriptor): void {
    this.get(desc.digest).resolve();
  }

  failed(err: unknown): void {
    this.failure = err;
    for (const w of this.waiters.values()) w.reject(err);
  }

  wait(digest: string): Promise<void> {
    return this.get(digest).promise;
  }
}

export async function pullImage(store: ImageStore, ref: ImageReference, options: PullOptions = {}): Promise<PullResult> {
  const client = await registryClient(ref.domain, options.registry);
  const src = new RegistrySource(ref, client);
  const arrivals = new BlobArrivals();
  // A digest-only pull gets no tag (the repository digest names it), as in podman.
  const names = ref.digest !== undefined && ref.tag === undefined ? [] : [`${repositoryName(ref)}:${ref.tag ?? 'latest'}`];
  const dst = new StoreDestination(store, {
    names,
    repoDigests: (digest) => [`${repositoryName(ref)}@${digest}`],
    onBlob: (desc) => arrivals.arrived(desc),
  });
  let unpacking: Promise<BundleResult> | undefined;
  const startUnpack = (resolved: ResolvedImage, config: ImageConfig): void => {
    const dir = options.unpackTo;
    if (dir === undefined) return;
    unpacking = (async () => {
      const { unpackBundle } = await import('../bundle/index.ts');
      const layers = resolved.parsed.layers.map((l) => ({
        digest: l.digest,
        mediaType: l.mediaType,
        open: async (): Promise<Readable> => {
          await arrivals.wait(l.digest);
          return store.readBlob(l.digest);
        },
      }));
      const bundle = await unpackBundle(layers, config, dir, { source: { image: formatReference(ref), manifest: resolved.manifest.digest } });
      bundle.layers.forEach((l, index) => options.progress?.({ type: 'layer-applied', digest: l.digest, index }));
      return bundle;
    })();
    unpacking.catch(() => undefined);
  };
  let image: ImageRecord;
  try {
    const copied = await copyImage(src, dst, {
      ...(options.platform === undefined ? {} : { platform: options.platform }),
      ...(options.progress === undefined ? {} : { progress: options.progress }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      onResolved: startUnpack,
    });
    const found = store.get(copied.configDigest);
    if (found === undefined) throw internal('image_not_recorded', `image ${copied.configDigest} was copied but not recorded in the store`);
    image = found;
  } catch (err) {
    arrivals.failed(err);
    await unpacking?.catch(() => undefined);
    throw err;
  } finally {
    await dst.close();
  }
  if (unpacking === undefined) return { image };
  return { image, bundle: await unpacking };
}
