/**
 * The `docker://host/repo[:tag|@digest]` transport: a registry through the
 * registry client. As a destination it skips blobs the repository has
 * (HEAD), mounts blobs from the source repository on the same registry,
 * uploads the rest, then puts the manifest under the tag (or its digest).
 */
import type { Descriptor } from '../../oci/image-spec.ts';
import { RegistryClient } from '../registry/client.ts';
import { lookupCredentials } from '../registry/credentials.ts';
import { DEFAULT_TAG, formatReference, type ImageReference } from '../registry/reference.ts';
import type { RetryOptions } from '../registry/retry.ts';
import { timeoutsFromEnv, type TransferTimeouts } from '../registry/timeouts.ts';
import { invalidArgument } from '../../errors.ts';
import type { BlobOpener, BlobStream, CommitInput, CommitResult, ImageDestination, ImageSource, ManifestBlob, PutBlobContext, TransferStart } from './types.ts';
import { Transform } from 'node:stream';

export interface RegistryOptions {
  /** Skip TLS verification and allow http (--tls-verify=false); false insists on verified https even on loopback. */
  insecure?: boolean;
  /** --authfile; default ~/.docker/config.json. */
  authFile?: string;
  /** --creds user:password, overriding the auth file. */
  credentials?: { username: string; password: string };
  retry?: RetryOptions;
  /** Idle timeout and deadline of transfers; default from the environment (timeouts.ts). */
  timeouts?: TransferTimeouts;
  /** Upload blobs in PATCH chunks of this size instead of one PUT. */
  chunkSize?: number;
}

const clients = new Map<string, RegistryClient>();

/** One client per registry and settings, so tokens and connections are shared within a command. */
export async function registryClient(registry: string, options: RegistryOptions = {}): Promise<RegistryClient> {
  const creds = options.credentials ?? (await lookupCredentials(registry, options.authFile));
  const timeouts = options.timeouts ?? timeoutsFromEnv();
  const key = JSON.stringify([registry, options.insecure ?? null, creds ?? null, timeouts]);
  let c = clients.get(key);
  if (c === undefined) {
    c = new RegistryClient({
      registry,
      ...(options.insecure === undefined ? {} : { insecure: options.insecure }),
      ...(creds === undefined ? {} : { credentials: creds }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      timeouts,
    });
    clients.set(key, c);
  }
  return c;
}

/** Counts bytes as they pass, for progress. */
export function counter(onBytes: ((n: number) => void) | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes?.(chunk.byteLength);
      cb(null, chunk);
    },
  });
}

export class RegistrySource implements ImageSource {
  readonly name: string;
  readonly registryRepo: { registry: string; repo: string };
  private readonly ref: ImageReference;
  private readonly client: RegistryClient;

  constructor(ref: ImageReference, client: RegistryClient) {
    this.ref = ref;
    this.client = client;
    this.name = `docker://${formatReference(ref)}`;
    this.registryRepo = { registry: ref.domain, repo: ref.path };
  }

  topManifest(): Promise<ManifestBlob> {
    return this.client.getManifest(this.ref.path, this.ref.digest ?? this.ref.tag ?? DEFAULT_TAG);
  }

  manifestByDigest(digest: string): Promise<ManifestBlob> {
    return this.client.getManifest(this.ref.path, digest);
  }

  async blob(desc: Descriptor, offset = 0, transfer: TransferStart = { startedAt: Date.now() }): Promise<BlobStream> {
    const r = await this.client.getBlob(this.ref.path, desc.digest, offset, { startedAt: transfer.startedAt, size: desc.size });
    return { stream: r.stream, offset: r.offset };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class RegistryDestination implements ImageDestination {
  readonly name: string;
  readonly acceptsDockerManifests = true;
  private readonly ref: ImageReference;
  private readonly client: RegistryClient;
  private readonly chunkSize: number | undefined;

  constructor(ref: ImageReference, client: RegistryClient, chunkSize?: number) {
    this.ref = ref;
    this.client = client;
    this.chunkSize = chunkSize;
    this.name = `docker://${formatReference(ref)}`;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    const size = await this.client.blobSize(this.ref.path, desc.digest, true);
    return size !== undefined && size === desc.size;
  }

  async tryMount(desc: Descriptor, from: { registry: string; repo: string }): Promise<boolean> {
    if (from.registry !== this.ref.domain || from.repo === this.ref.path) return false;
    try {
      return (await this.client.mountBlob(this.ref.path, desc.digest, from.repo)) === true;
    } catch {
      // A refused mount (no pull right on the source repository) falls back to an upload.
      return false;
    }
  }

  async putBlob(desc: Descriptor, open: BlobOpener, ctx: PutBlobContext): Promise<void> {
    await this.client.uploadBlob(
      this.ref.path,
      desc,
      async () => {
        const { stream, offset } = await open(0);
        if (offset !== 0) throw invalidArgument('blob_offset', `${this.name}: blob ${desc.digest}: source started at ${offset}`);
        return stream.pipe(counter(ctx.onBytes));
      },
      this.chunkSize === undefined ? {} : { chunkSize: this.chunkSize },
    );
  }

  async putManifest(m: ManifestBlob): Promise<void> {
    await this.client.putManifest(this.ref.path, m.digest, m.bytes, m.mediaType);
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    // Only the chosen platform's manifest is copied (as skopeo without --all).
    const m = input.manifest;
    const tagged = this.ref.digest ?? this.ref.tag ?? DEFAULT_TAG;
    const digest = await this.client.putManifest(this.ref.path, tagged, m.bytes, m.mediaType);
    return { manifestDigest: digest };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
