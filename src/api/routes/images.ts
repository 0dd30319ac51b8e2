/**
 * The image routes of the Docker Engine API over berth's image library:
 * list, inspect, history, pull (`POST /images/create`), push, tag, remove,
 * search, save (`/images/get`), load, and `POST /auth`; `POST /build` is in
 * build.ts. Long work answers with Docker's JSON message stream as it goes
 * (docker/progress.ts). Registry credentials come from `X-Registry-Auth`;
 * without it, from the daemon's own auth file, as `berth pull` finds them.
 */
import { createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Engine } from '../../engine/engine.ts';
import { failedPrecondition, invalidArgument, unsupported } from '../../errors.ts';
import { isObject } from '../../json-object.ts';
import { copyImage, type CopyResult } from '../../image/copy/copy.ts';
import { loadArchive } from '../../image/copy/load.ts';
import { pullImage } from '../../image/copy/pull.ts';
import type { ProgressSink } from '../../image/progress/events.ts';
import { RegistryClient } from '../../image/registry/client.ts';
import type { Credentials } from '../../image/registry/credentials.ts';
import { parsePlatform } from '../../image/registry/platform.ts';
import { formatReference, withDefaultTag, type ImageReference } from '../../image/registry/reference.ts';
import { removeImages } from '../../image/remove.ts';
import { isDigest } from '../../image/store/digest.ts';
import type { ImageRecord } from '../../image/store/store.ts';
import type { RegistryOptions } from '../../image/transport/docker.ts';
import { openDestination, openSource, repoDigestsFor, type TransportContext } from '../../image/transport/open.ts';
import type { TransportRef } from '../../image/transport/parse.ts';
import type { Platform } from '../../oci/image-spec.ts';
import { authConfig, checkImageFilters, dockerName, imageHistory, imageInspect, imageSummary, matchImage, registryAuth, unixSeconds } from '../docker/images.ts';
import { messageStream, pullProgress, pushProgress, type Emit } from '../docker/progress.ts';
import type { Query } from '../query.ts';
import { json, stream, type Reply } from '../reply.ts';
import type { ApiServer } from '../server.ts';
import { buildRoutes } from './build.ts';

function registryOptions(credentials: Credentials | undefined): RegistryOptions {
  return credentials === undefined ? {} : { credentials };
}

/** Copies between two transports with the store at hand, closing both ends whatever happens. */
async function copyBetween(ctx: TransportContext, from: TransportRef, to: TransportRef, progress?: ProgressSink, platform?: Platform): Promise<CopyResult> {
  const src = await openSource(from, ctx);
  try {
    const repoDigests = repoDigestsFor(from);
    const dst = await openDestination(to, ctx, repoDigests === undefined ? {} : { repoDigests });
    try {
      return await copyImage(src, dst, { ...(progress === undefined ? {} : { progress }), ...(platform === undefined ? {} : { platform }) });
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

/**
 * Newer clients' per-platform choices on push, save, load and remove (API 1.46+): berth's store holds
 * one platform an image, so a platform asked for is refused by name rather than ignored.
 */
function refusePlatform(q: Query, what: string): void {
  for (const name of ['platform', 'platforms']) {
    const v = q.all(name).filter((x) => x.trim() !== '' && x.trim() !== '[]' && x.trim() !== 'null');
    if (v.length > 0) throw unsupported('api_platform_unsupported', `${what}: query parameter "${name}"="${v[0]!}" is not supported (the store holds one platform an image)`);
  }
}

/** A scratch directory for an archive, removed by the returned function. */
function scratch(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function imageRoutes(server: ApiServer, engine: Engine): void {
  const { router, logger } = server;
  const store = engine.images;
  const defaults = store.defaults;
  const ctx = (credentials?: Credentials): TransportContext => ({ store: () => Promise.resolve(store), registry: registryOptions(credentials) });
  const shown = (canonical: string): string => dockerName(canonical, defaults);
  const orphan = (what: string) => (err: unknown) => logger.warn(`${what} failed after its client left`, { err });
  const publish = (action: string, img: ImageRecord, name?: string): void => {
    engine.events.publish('image', action, name ?? img.id, name === undefined ? {} : { name });
  };

  router.get('/images/json', async (req) => {
    const f = req.query.filters();
    checkImageFilters(f);
    const created = (ref: string): number => unixSeconds(store.resolve(ref).created);
    const out: Record<string, unknown>[] = [];
    for (const img of store.list()) {
      const config = await store.readConfig(img);
      if (!matchImage(img, config.config?.Labels ?? {}, f, defaults, created)) continue;
      out.push(imageSummary(img, config, defaults, req.version));
    }
    out.sort((a, b) => (b['Created'] as number) - (a['Created'] as number));
    return json(out);
  });

  /**
   * docker search: registries of the distribution spec have no search, but most list their
   * repositories (`/v2/_catalog`); the term's registry (HOST/TEXT, or the default registry) is
   * listed and its repositories containing TEXT are the answer. Stars, official and automated
   * builds are the hub's notions: every result has none, and filters asking for them match nothing.
   */
  router.get('/images/search', async (req) => {
    const term = req.query.str('term') ?? '';
    if (term === '') throw invalidArgument('api_query_invalid', 'images/search: query parameter "term" is required');
    const limit = req.query.int('limit', 25);
    if (limit < 1 || limit > 100) throw invalidArgument('api_query_invalid', `images/search: query parameter "limit"=${limit}: want 1 to 100`);
    const f = req.query.filters();
    for (const key of f.keys()) if (!['stars', 'is-official', 'is-automated'].includes(key)) throw invalidArgument('api_filters_invalid', `filter "${key}": not a search filter (stars, is-official, is-automated)`);
    const wantsHubFeature = (f.get('is-official') ?? []).some((v) => v === 'true') || (f.get('is-automated') ?? []).some((v) => v === 'true') || (f.get('stars') ?? []).some((v) => Number(v) > 0);
    const slash = term.indexOf('/');
    const first = slash < 0 ? '' : term.slice(0, slash);
    const named = first.includes('.') || first.includes(':') || first === 'localhost';
    const registry = named ? first : defaults.registry;
    if (registry === undefined) throw invalidArgument('api_query_invalid', `images/search "${term}": no registry to search: name one, as 127.0.0.1:5000/${term}`);
    const text = named ? term.slice(slash + 1) : term;
    const client = new RegistryClient({ registry, ...registryOptions(registryAuth(req.headers['x-registry-auth'])) });
    const repos = wantsHubFeature ? [] : (await client.catalog()).filter((r) => r.includes(text)).slice(0, limit);
    return json(repos.map((r) => ({ name: `${registry}/${r}`, description: '', star_count: 0, is_official: false, is_automated: false })));
  });

  router.get('/images/get', (req) => {
    refusePlatform(req.query, 'images/get');
    return save(req.query.all('names'));
  });
  router.get('/images/{name*}/get', (req) => {
    refusePlatform(req.query, 'image get');
    return save([req.params['name']!]);
  });

  router.get('/images/{name*}/json', async (req) => {
    const img = store.resolve(req.params['name']!);
    return json(imageInspect(img, await store.readConfig(img), defaults, req.version));
  });

  router.get('/images/{name*}/history', async (req) => {
    const img = store.resolve(req.params['name']!);
    return json(imageHistory(img, await store.readConfig(img), defaults));
  });

  router.post('/images/{name*}/tag', (req) => {
    const repo = req.query.str('repo') ?? '';
    if (repo === '') throw invalidArgument('api_query_invalid', 'image tag: query parameter "repo" is required');
    const tag = req.query.str('tag') ?? '';
    if (repo.includes('@')) throw invalidArgument('api_query_invalid', `image tag: repo "${repo}": a digest reference cannot be a tag`);
    const img = store.resolve(req.params['name']!);
    const name = store.tag(img.id, tag === '' ? repo : `${repo}:${tag}`);
    publish('tag', img, shown(name));
    return { type: 'empty', status: 201 };
  });

  router.delete('/images/{name*}', async (req) => {
    const target = req.params['name']!;
    refusePlatform(req.query, 'image remove');
    const force = req.query.bool('force');
    req.query.bool('noprune'); // checked; berth's images have no parent images to keep
    const img = store.resolve(target);
    const users = engine.containers.list().filter((c) => c.imageId === img.id);
    const byName = !isDigest(target) && !img.id.slice(7).startsWith(target) && img.names.includes(store.canonicalTagged(target));
    const onlyUntag = byName && img.names.length > 1;
    if (users.length > 0 && !onlyUntag) {
      const running = users.find((c) => c.state === 'running' || c.state === 'paused');
      const what = `${running === undefined ? 'stopped' : 'running'} container ${(running ?? users[0]!).id.slice(0, 12)}`;
      if (!force) {
        throw failedPrecondition('image_in_use', byName
          ? `conflict: unable to remove repository reference "${target}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`
          : `conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is being used by ${what}`);
      }
      // Forced: the names go, the image stays while a container stands on it (berth's containers read its layers).
      const out = img.names.map((n) => ({ Untagged: shown(n) }));
      for (const n of img.names) {
        store.untag(n);
        publish('untag', img, shown(n));
      }
      return json(out);
    }
    const removals = await removeImages(store, [target], { force });
    const out = removals.map((r) => ('untagged' in r ? { Untagged: shown(r.untagged) } : { Deleted: `sha256:${r.deleted}` }));
    for (const r of removals) {
      if ('untagged' in r) publish('untag', img, shown(r.untagged));
      else publish('delete', img);
    }
    return json(out);
  });

  router.post('/images/create', async (req) => {
    const q = req.query;
    if ((q.str('fromSrc') ?? '') !== '') {
      throw unsupported('api_import_unsupported', 'images/create: query parameter "fromSrc" (docker import of a root file system tarball) is not supported by berthd; use docker load');
    }
    const from = q.str('fromImage') ?? '';
    if (from === '') throw invalidArgument('api_query_invalid', 'images/create: query parameter "fromImage" is required');
    const tag = q.str('tag') ?? '';
    const name = tag === '' ? from : isDigest(tag) ? `${from}@${tag}` : `${from}:${tag}`;
    const ref: ImageReference = store.parseName(name);
    if (ref.implicitDomain && defaults.registry === undefined) {
      throw invalidArgument('api_query_invalid', `images/create: fromImage "${name}": no registry given and no default registry configured (name one, e.g. 127.0.0.1:5000/${ref.path})`);
    }
    const platformText = q.str('platform') ?? '';
    const platform = platformText === '' ? undefined : parsePlatform(platformText);
    const credentials = registryAuth(req.headers['x-registry-auth']);
    const wanted = formatReference(withDefaultTag(ref));
    const before = store.tryResolve(wanted)?.id;
    return messageStream(async (emit) => {
      const progress = pullProgress(emit, ref.path, ref.tag ?? ref.digest ?? 'latest');
      const { image } = await pullImage(store, ref, { progress, registry: registryOptions(credentials), ...(platform === undefined ? {} : { platform }) });
      emit({ status: `Digest: ${image.indexDigest ?? image.manifestDigest}` });
      emit({ status: `Status: ${before === image.id ? 'Image is up to date' : 'Downloaded newer image'} for ${shown(wanted)}` });
      publish('pull', image, shown(wanted));
    }, orphan('pull'));
  });

  router.post('/images/{name*}/push', async (req) => {
    const tag = req.query.str('tag') ?? '';
    refusePlatform(req.query, 'image push');
    const base = store.parseName(req.params['name']!);
    if (base.tag !== undefined || base.digest !== undefined) {
      throw invalidArgument('api_query_invalid', `image push "${req.params['name']!}": give the tag as the query parameter "tag"`);
    }
    if (base.implicitDomain && defaults.registry === undefined) {
      throw invalidArgument('api_query_invalid', `image push "${req.params['name']!}": no registry in the name and no default registry configured (tag it as 127.0.0.1:5000/${base.path} first)`);
    }
    if (tag === '') throw unsupported('api_push_all_tags_unsupported', `image push "${req.params['name']!}": pushing every tag of a repository (no "tag") is not supported; push one tag`);
    const ref: ImageReference = { ...base, tag };
    const img = store.resolve(formatReference(ref));
    const credentials = registryAuth(req.headers['x-registry-auth']);
    return messageStream(async (emit) => {
      emit({ status: `The push refers to repository [${shown(`${ref.domain}/${ref.path}`)}]` });
      const result = await copyBetween(ctx(credentials), { transport: 'store', name: img.id }, { transport: 'docker', ref }, pushProgress(emit));
      store.addRepoDigest(img.id, `${ref.domain}/${ref.path}@${result.manifestDigest}`);
      const size = result.manifestDigest === img.manifestDigest ? img.manifestSize : 0;
      emit({ status: `${tag}: digest: ${result.manifestDigest} size: ${size}` });
      emit({ progressDetail: {}, aux: { Tag: tag, Digest: result.manifestDigest, Size: size } });
      publish('push', img, shown(formatReference(ref)));
    }, orphan('push'));
  });

  /** docker save: the images' docker-archive, made whole in a scratch file first, then streamed and removed. */
  async function save(names: string[]): Promise<Reply> {
    if (names.length === 0) throw invalidArgument('api_query_invalid', 'images/get: query parameter "names" is required');
    if (names.length > 1) throw unsupported('api_save_several_unsupported', `images/get: ${names.length} images: berthd saves one image an archive`);
    const asked = names[0]!;
    const img = store.resolve(asked);
    const canonical = isDigest(asked) || img.id.slice(7).startsWith(asked) ? img.names[0] : store.canonicalTagged(asked);
    const tmp = scratch('berth-save-');
    const file = join(tmp.dir, 'image.tar');
    try {
      await copyBetween(ctx(), { transport: 'store', name: img.id }, { transport: 'docker-archive', path: file, ...(canonical === undefined ? {} : { ref: shown(canonical) }) });
    } catch (err) {
      tmp.remove();
      throw err;
    }
    publish('save', img, canonical === undefined ? undefined : shown(canonical));
    // Open, then removed: the open file is the stream's alone, and nothing is left when the client goes away.
    const fd = openSync(file, 'r');
    tmp.remove();
    return stream(createReadStream('', { fd }), 'application/x-tar');
  }

  /**
   * docker image prune: images without a tag (all unused ones with dangling=false) that no container
   * uses, as dockerd (an image known only by its digest counts as dangling); then the blobs no image needs.
   */
  router.post('/images/prune', async (req) => {
    const f = req.query.filters();
    for (const key of f.keys()) if (!['dangling', 'label', 'until'].includes(key)) throw invalidArgument('api_filters_invalid', `filter "${key}": not an image prune filter (dangling, label, until)`);
    checkImageFilters(f);
    const danglingOnly = !['false', '0'].includes(f.get('dangling')?.[0] ?? 'true');
    const used = new Set(engine.containers.list().map((c) => c.imageId));
    const rest = new Map([...f].filter(([k]) => k !== 'dangling'));
    const deleted: Record<string, string>[] = [];
    for (const img of store.list()) {
      if (used.has(img.id) || (danglingOnly && img.names.length > 0)) continue;
      const config = await store.readConfig(img);
      if (!matchImage(img, config.config?.Labels ?? {}, rest, defaults, () => 0)) continue;
      if (!store.deleteImage(img.id)) continue;
      for (const n of img.names) deleted.push({ Untagged: shown(n) });
      deleted.push({ Deleted: img.id });
      publish('delete', img);
    }
    const { prune } = await import('../../image/store/gc.ts');
    const r = await prune(store, { dangling: false });
    return json({ ImagesDeleted: deleted.length === 0 ? null : deleted, SpaceReclaimed: r.bytes });
  });

  router.post('/images/load', async (req) => {
    const quiet = req.query.bool('quiet');
    refusePlatform(req.query, 'images/load');
    const tmp = scratch('berth-load-');
    const file = join(tmp.dir, 'image.tar');
    try {
      // An archive is read by offset: the body is saved whole first.
      const fh = await openFile(file, 'wx', 0o600);
      await pipeline(req.body, fh.createWriteStream());
    } catch (err) {
      tmp.remove();
      throw err;
    }
    return messageStream(async (emit: Emit) => {
      try {
        const loaded = await loadArchive(store, file, (from, to) => copyBetween(ctx(), from, to));
        for (const name of loaded) {
          const img = store.resolve(name);
          emit(isDigest(name) ? { stream: `Loaded image ID: ${name}\n` } : { stream: `Loaded image: ${shown(name)}\n` });
          publish('load', img, isDigest(name) ? undefined : shown(name));
        }
        if (!quiet && loaded.length === 0) emit({ stream: 'No images in the archive\n' });
      } finally {
        tmp.remove();
      }
    }, orphan('load'));
  });

  router.post('/auth', async (req) => {
    const body = await req.json();
    if (!isObject(body)) throw invalidArgument('api_body_invalid', 'auth: the body must be a JSON object');
    const address = typeof body['serveraddress'] === 'string' ? body['serveraddress'].replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '') : '';
    const registry = address === '' ? defaults.registry : address;
    if (registry === undefined) throw invalidArgument('api_body_invalid', 'auth: field "serveraddress" is required (no default registry is configured)');
    const credentials = authConfig(body, 'auth');
    if (credentials === undefined) throw invalidArgument('api_body_invalid', 'auth: fields "username" and "password" are required');
    await new RegistryClient({ registry, credentials }).ping();
    return json({ Status: 'Login Succeeded', IdentityToken: '' });
  });

  buildRoutes(server, engine);
}
