/**
 * A client for one registry, per the OCI distribution spec: manifests and
 * blobs by repository, monolithic and chunked uploads, cross-repository
 * mounts, existence checks, tags. Requests are authenticated on demand
 * (auth.ts), retried on 5xx and broken connections (retry.ts), and go over
 * https, or plain http for insecure registries (--tls-verify=false, and
 * loopback addresses, which the docker daemon also treats as insecure).
 * Manifests over 4 MiB are refused (limits.ts); transfers are bounded by an
 * idle timeout and a deadline (timeouts.ts).
 */
import type { Readable } from 'node:stream';
import { BerthError, ErrorKind, describeError, invalidArgument, notFound, unavailable } from '../../errors.ts';
import { MediaType } from '../../oci/image-spec.ts';
import { digestOf } from '../store/digest.ts';
import { detectMediaType, parseJson } from '../store/manifest.ts';
import { Authenticator, unauthorized } from './auth.ts';
import type { Credentials } from './credentials.ts';
import { checkDeclaredSize, MAX_MANIFEST_BYTES } from '../limits.ts';
import { discard, header, readBody, send, type HttpResponse } from './http.ts';
import { isRetryableStatus, withRetry, type RetryOptions } from './retry.ts';
import { deadlineExceeded, deadlineFor, timeoutsFromEnv, type TransferTimeouts } from './timeouts.ts';

export const MANIFEST_ACCEPT = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList].join(', ');

export interface RegistryClientOptions {
  /** "host[:port]" */
  registry: string;
  /** Do not verify TLS and allow plain http (skopeo's --tls-verify=false). */
  insecure?: boolean;
  credentials?: Credentials;
  retry?: RetryOptions;
  /** Default: from BERTH_REGISTRY_IDLE_TIMEOUT and BERTH_REGISTRY_TIMEOUT. */
  timeouts?: TransferTimeouts;
}

/** A blob transfer: when it began (its first attempt, so retries and resumptions share one deadline) and its size. */
export interface BlobTransfer {
  startedAt: number;
  size: number;
}

export interface ManifestResponse {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface BlobResponse {
  stream: Readable;
  /** Bytes the response will carry. */
  length: number | undefined;
  /** Where the response starts: the requested offset when the server honoured Range, else 0. */
  offset: number;
}

/** When a transfer must be complete, and the timeout it came from (for the message). */
interface Deadline {
  at: number;
  ms: number;
}

interface RequestOptions {
  method: string;
  /** A path under the registry ("/v2/…") or an absolute URL the registry gave (upload locations). */
  target: string | URL;
  scopes: string[];
  headers?: Record<string, string>;
  body?: Buffer | (() => Promise<Readable>);
  /** Statuses that are answers, not errors (the response is returned). */
  ok: number[];
  what: string;
  deadline?: Deadline;
}

export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function contentLength(res: HttpResponse): number | undefined {
  const n = Number(header(res, 'content-length') ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}

export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

export class RegistryClient {
  readonly registry: string;
  private readonly insecure: boolean;
  private readonly auth: Authenticator;
  private readonly retry: RetryOptions;
  private readonly timeouts: TransferTimeouts;
  private base: Promise<URL> | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.insecure = options.insecure ?? isLoopback(options.registry);
    this.auth = new Authenticator(options.registry, options.credentials, this.insecure);
    this.retry = options.retry ?? {};
    this.timeouts = options.timeouts ?? timeoutsFromEnv();
  }

  private deadline(startedAt: number, size: number): Deadline {
    const ms = deadlineFor(this.timeouts, size);
    return { at: startedAt + ms, ms };
  }

  /** https first; plain http only for insecure registries, when https does not answer. */
  baseUrl(): Promise<URL> {
    this.base ??= this.probe();
    return this.base;
  }

  private async probe(): Promise<URL> {
    const https = new URL(`https://${this.registry}/`);
    try {
      const res = await send({ method: 'GET', url: new URL('/v2/', https), insecure: this.insecure, idleTimeoutMs: 10_000 });
      discard(res);
      return https;
    } catch (err) {
      if (!this.insecure) {
        this.base = undefined;
        throw unavailable('registry_unreachable', `registry ${this.registry}: ${describeError(err)}`, { cause: err });
      }
    }
    const http = new URL(`http://${this.registry}/`);
    try {
      const res = await send({ method: 'GET', url: new URL('/v2/', http), idleTimeoutMs: 10_000 });
      discard(res);
      return http;
    } catch (err) {
      this.base = undefined;
      throw unavailable('registry_unreachable', `registry ${this.registry}: ${describeError(err)}`, {
        cause: err,
        details: { transient: true },
      });
    }
  }

  /** Checks that the registry answers and the credentials are accepted (what `login` does). */
  async ping(): Promise<void> {
    const res = await this.request({ method: 'GET', target: '/v2/', scopes: [], ok: [200], what: `registry ${this.registry}` });
    discard(res);
  }

  private async request(o: RequestOptions): Promise<HttpResponse> {
    return withRetry(async () => {
      if (o.deadline !== undefined && o.deadline.at <= Date.now()) throw deadlineExceeded(o.what, o.deadline.ms);
      const base = await this.baseUrl();
      const url = typeof o.target === 'string' ? new URL(o.target, base) : o.target;
      for (let round = 0; ; round++) {
        const headers: Record<string, string> = { ...o.headers };
        const authz = await this.auth.authorization(o.scopes);
        if (authz !== undefined) headers['authorization'] = authz;
        const res = await send({
          method: o.method,
          url,
          headers,
          ...(o.body === undefined ? {} : { body: o.body }),
          insecure: this.insecure,
          idleTimeoutMs: this.timeouts.idleMs,
          label: o.what,
          ...(o.deadline === undefined ? {} : { deadline: o.deadline }),
        });
        if (o.ok.includes(res.status)) return res;
        if (res.status === 401 && round === 0 && this.auth.onUnauthorized(res, o.scopes)) {
          discard(res);
          continue;
        }
        throw await this.errorFor(res, o.what);
      }
    }, this.retry);
  }

  private async errorFor(res: HttpResponse, what: string): Promise<BerthError> {
    let detail = '';
    let code = '';
    try {
      const body = res.status === 0 || res.body.readableEnded ? Buffer.alloc(0) : await readBody(res, 64 * 1024);
      const doc = body.byteLength > 0 ? (JSON.parse(body.toString('utf8')) as unknown) : undefined;
      const first = typeof doc === 'object' && doc !== null && Array.isArray((doc as { errors?: unknown }).errors) ? (doc as { errors: unknown[] }).errors[0] : undefined;
      if (typeof first === 'object' && first !== null) {
        const e = first as Record<string, unknown>;
        code = typeof e['code'] === 'string' ? e['code'] : '';
        detail = typeof e['message'] === 'string' ? e['message'] : '';
      }
    } catch {
      // The body is only used to word the error; an unreadable one changes nothing.
    }
    const msg = `${what}: registry answered ${res.status}${code === '' ? '' : ` ${code}`}${detail === '' ? '' : ` (${detail})`}`;
    const details = { status: res.status, registryCode: code, transient: isRetryableStatus(res.status) };
    if (res.status === 401 || res.status === 403) return unauthorized(msg);
    if (res.status === 404) return notFound(code === 'NAME_UNKNOWN' ? 'repository_not_found' : 'registry_not_found', msg, { details });
    if (res.status === 400 || res.status === 405 || res.status === 413) return invalidArgument('registry_rejected', msg, { details });
    return new BerthError(ErrorKind.Unavailable, 'registry_error', msg, { details });
  }

  async getManifest(repo: string, reference: string): Promise<ManifestResponse> {
    const what = `manifest ${this.registry}/${repo}:${reference}`.replace(':sha256:', '@sha256:');
    const res = await this.request({
      method: 'GET',
      target: `/v2/${repo}/manifests/${reference}`,
      scopes: [pullScope(repo)],
      headers: { accept: MANIFEST_ACCEPT },
      ok: [200],
      what,
      deadline: this.deadline(Date.now(), MAX_MANIFEST_BYTES),
    });
    const declared = contentLength(res);
    if (declared !== undefined && declared > MAX_MANIFEST_BYTES) {
      res.body.destroy();
      checkDeclaredSize(what, declared, MAX_MANIFEST_BYTES);
    }
    // Never more than declared, nor than the cap without a Content-Length.
    const bytes = await readBody(res, declared ?? MAX_MANIFEST_BYTES, what);
    const digest = digestOf(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw invalidArgument('manifest_digest_mismatch', `${what}: content has digest ${digest}`);
    }
    const contentType = header(res, 'content-type')?.split(';')[0]?.trim();
    const detected = detectMediaType(parseJson(bytes, what));
    const mediaType = detected ?? (contentType === undefined || contentType === 'application/json' ? MediaType.OciManifest : contentType);
    return { bytes, mediaType, digest };
  }

  /** Digest and type of a manifest without its body; undefined when it does not exist. */
  async headManifest(repo: string, reference: string): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
    const res = await this.request({
      method: 'HEAD',
      target: `/v2/${repo}/manifests/${reference}`,
      scopes: [pullScope(repo)],
      headers: { accept: MANIFEST_ACCEPT },
      ok: [200, 404],
      what: `manifest ${this.registry}/${repo}:${reference}`,
    });
    discard(res);
    if (res.status === 404) return undefined;
    const digest = header(res, 'docker-content-digest');
    if (digest === undefined) return undefined;
    return { digest, mediaType: header(res, 'content-type') ?? '', size: Number(header(res, 'content-length') ?? 0) };
  }

  /**
   * Opens a blob for reading, from `offset` when the server honours Range.
   * With `transfer`, the whole transfer has a deadline scaled to its size.
   */
  async getBlob(repo: string, digest: string, offset = 0, transfer?: BlobTransfer): Promise<BlobResponse> {
    const headers: Record<string, string> = {};
    if (offset > 0) headers['range'] = `bytes=${offset}-`;
    const res = await this.request({
      method: 'GET',
      target: `/v2/${repo}/blobs/${digest}`,
      scopes: [pullScope(repo)],
      headers,
      ok: [200, 206],
      what: `blob ${this.registry}/${repo}@${digest}`,
      ...(transfer === undefined ? {} : { deadline: this.deadline(transfer.startedAt, transfer.size) }),
    });
    return { stream: res.body, length: contentLength(res), offset: res.status === 206 ? offset : 0 };
  }

  /** The blob's size when the repository has it. */
  async blobSize(repo: string, digest: string, push = false): Promise<number | undefined> {
    const res = await this.request({
      method: 'HEAD',
      target: `/v2/${repo}/blobs/${digest}`,
      scopes: [push ? pushScope(repo) : pullScope(repo)],
      ok: [200, 404],
      what: `blob ${this.registry}/${repo}@${digest}`,
    });
    discard(res);
    return res.status === 200 ? Number(header(res, 'content-length') ?? 0) : undefined;
  }

  private uploadLocation(res: HttpResponse, what: string): URL {
    const loc = header(res, 'location');
    if (loc === undefined) throw unavailable('registry_error', `${what}: upload answer has no Location`);
    return new URL(loc, res.url);
  }

  /**
   * Asks the registry to link a blob from another repository it holds.
   * Returns true when mounted; otherwise the upload session it opened.
   */
  async mountBlob(repo: string, digest: string, from: string): Promise<true | URL> {
    const target = `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const what = `blob ${digest} mount from ${from} to ${this.registry}/${repo}`;
    const res = await this.request({ method: 'POST', target, scopes: [pushScope(repo), pullScope(from)], ok: [201, 202], what });
    discard(res);
    return res.status === 201 ? true : this.uploadLocation(res, what);
  }

  async startUpload(repo: string, deadline?: Deadline): Promise<URL> {
    const what = `upload to ${this.registry}/${repo}`;
    const res = await this.request({ method: 'POST', target: `/v2/${repo}/blobs/uploads/`, scopes: [pushScope(repo)], ok: [202], what, ...(deadline === undefined ? {} : { deadline }) });
    discard(res);
    return this.uploadLocation(res, what);
  }

  /**
   * Uploads a blob in one PUT (monolithic) or, with `chunkSize`, in PATCH
   * requests of that size followed by the closing PUT. `open` re-opens the
   * content, so a failed attempt starts over with a new session. The
   * whole upload, across its attempts, has one deadline scaled to the size.
   */
  async uploadBlob(
    repo: string,
    blob: { digest: string; size: number },
    open: () => Promise<Readable>,
    options: { chunkSize?: number; location?: URL } = {},
  ): Promise<void> {
    const what = `blob ${blob.digest} upload to ${this.registry}/${repo}`;
    const deadline = this.deadline(Date.now(), blob.size);
    let location: URL | undefined = options.location;
    await withRetry(async () => {
      const start = location ?? (await this.startUpload(repo, deadline));
      location = undefined;
      if (options.chunkSize !== undefined && options.chunkSize > 0) {
        await this.uploadChunked(repo, blob, open, start, options.chunkSize, what, deadline);
        return;
      }
      const put = new URL(start);
      put.searchParams.set('digest', blob.digest);
      // The body is a stream opened per attempt; retries happen here, not inside request().
      const res = await this.request({
        method: 'PUT',
        target: put,
        scopes: [pushScope(repo)],
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
        body: open,
        ok: [201],
        what,
        deadline,
      });
      discard(res);
    }, this.retry);
  }

  private async uploadChunked(
    repo: string,
    blob: { digest: string; size: number },
    open: () => Promise<Readable>,
    start: URL,
    chunkSize: number,
    what: string,
    deadline: Deadline,
  ): Promise<void> {
    let location = start;
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const chunk = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      const res = await this.request({
        method: 'PATCH',
        target: location,
        scopes: [pushScope(repo)],
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + chunk.byteLength - 1}`,
        },
        body: chunk,
        ok: [202],
        what,
        deadline,
      });
      discard(res);
      offset += chunk.byteLength;
      location = this.uploadLocation(res, what);
    };
    for await (const data of await open()) {
      const b = data as Buffer;
      let pos = 0;
      while (pos < b.byteLength) {
        const take = Math.min(chunkSize - pendingBytes, b.byteLength - pos);
        pending.push(b.subarray(pos, pos + take));
        pendingBytes += take;
        pos += take;
        if (pendingBytes === chunkSize) await flush();
      }
    }
    await flush();
    if (offset !== blob.size) throw invalidArgument('blob_upload_size_mismatch', `${what}: sent ${offset} bytes, expected ${blob.size}`);
    const put = new URL(location);
    put.searchParams.set('digest', blob.digest);
    const res = await this.request({ method: 'PUT', target: put, scopes: [pushScope(repo)], ok: [201], what, deadline });
    discard(res);
  }

  /** Stores a manifest under a tag or its digest; returns the digest the registry reports. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request({
      method: 'PUT',
      target: `/v2/${repo}/manifests/${reference}`,
      scopes: [pushScope(repo)],
      headers: { 'content-type': mediaType },
      body: bytes,
      ok: [201],
      what: `manifest ${this.registry}/${repo}:${reference}`,
      deadline: this.deadline(Date.now(), bytes.byteLength),
    });
    discard(res);
    return header(res, 'docker-content-digest') ?? digestOf(bytes);
  }

  async listTags(repo: string): Promise<string[]> {
    const res = await this.request({ method: 'GET', target: `/v2/${repo}/tags/list`, scopes: [pullScope(repo)], ok: [200], what: `tags of ${this.registry}/${repo}` });
    const doc = parseJson(await readBody(res, MAX_MANIFEST_BYTES), `tags of ${this.registry}/${repo}`);
    const tags = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['tags'] : undefined;
    return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
  }

  /**
   * The repositories the registry lists (`/v2/_catalog`, optional in the
   * distribution spec), following its Link pages up to `max` names.
   */
  async catalog(max = 10_000): Promise<string[]> {
    const out: string[] = [];
    let target: string | undefined = '/v2/_catalog?n=1000';
    while (target !== undefined && out.length < max) {
      const res = await this.request({ method: 'GET', target, scopes: ['registry:catalog:*'], ok: [200], what: `catalog of ${this.registry}` });
      const doc = parseJson(await readBody(res, MAX_MANIFEST_BYTES), `catalog of ${this.registry}`);
      const repos = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['repositories'] : undefined;
      if (Array.isArray(repos)) out.push(...repos.filter((r): r is string => typeof r === 'string'));
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(header(res, 'link') ?? '')?.[1];
      target = next !== undefined && next.startsWith('/v2/_catalog?') ? next : undefined;
    }
    return out.slice(0, max);
  }
}
