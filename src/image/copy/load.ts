/**
 * Loading archives as `podman load` and the Docker API's POST
 * /images/load do: every image of a docker-archive (named by its
 * RepoTags) or an oci-archive (named by its
 * org.opencontainers.image.ref.name annotation, when that is a full name)
 * copied into the store.
 */
import { invalidArgument } from '../../errors.ts';
import { parseReference } from '../registry/reference.ts';
import { parseIndex, parseJson } from '../store/manifest.ts';
import type { ImageStore } from '../store/store.ts';
import { REF_NAME } from '../transport/oci-layout.ts';
import type { TransportRef } from '../transport/parse.ts';
import { ArchiveIndex } from '../transport/tar-index.ts';
import type { CopyResult } from './copy.ts';

export interface ArchivedImage {
  from: TransportRef;
  names: string[];
}

function asName(s: string): string | undefined {
  try {
    const r = parseReference(s);
    return r.tag === undefined && !s.includes('/') ? undefined : s;
  } catch {
    return undefined;
  }
}

/** The images an archive holds, each with the names it gives them. */
export async function archivedImages(file: string): Promise<ArchivedImage[]> {
  const index = await ArchiveIndex.open(file);
  const out: ArchivedImage[] = [];
  if (index.has('manifest.json')) {
    const doc = parseJson(index.smallFile('manifest.json'), `${file}: manifest.json`);
    const entries = Array.isArray(doc) ? doc : [];
    entries.forEach((e: unknown, i) => {
      const raw = typeof e === 'object' && e !== null ? (e as { RepoTags?: unknown }).RepoTags : undefined;
      const tags = Array.isArray(raw) ? raw.filter((t): t is string => typeof t === 'string') : [];
      out.push({ from: { transport: 'docker-archive', path: file, ref: `@${i}` }, names: tags });
    });
    return out;
  }
  if (index.has('index.json')) {
    const idx = parseIndex(index.smallFile('index.json'), `${file}: index.json`);
    for (const m of idx.manifests) {
      const ref = m.annotations?.[REF_NAME];
      if (ref === undefined) throw invalidArgument('unnamed_image', `${file}: index.json entry ${m.digest} has no ${REF_NAME}; use berth image copy`);
      const name = asName(ref);
      out.push({ from: { transport: 'oci-archive', path: file, ref }, names: name === undefined ? [] : [name] });
    }
    return out;
  }
  throw invalidArgument('unknown_archive', `${file}: neither a docker-archive (manifest.json) nor an oci-archive (index.json)`);
}

/**
 * Copies every image of the archive into the store through `copy` (the
 * caller's, which may show progress); returns what each was loaded as:
 * its first name, or its ID when it has none.
 */
export async function loadArchive(store: ImageStore, file: string, copy: (from: TransportRef, to: TransportRef) => Promise<CopyResult>): Promise<string[]> {
  const loaded: string[] = [];
  for (const job of await archivedImages(file)) {
    const [first, ...more] = job.names;
    // An unnamed image is written under a placeholder name that is dropped again (it stays as <none>).
    const placeholder = `localhost/berth-load-${process.pid}:unnamed`;
    const r = await copy(job.from, { transport: 'store', name: first ?? placeholder });
    const id = r.imageId ?? r.configDigest;
    for (const n of more) store.tag(id, n);
    if (first === undefined) store.untag(placeholder);
    loaded.push(first === undefined ? id : store.canonicalTagged(first));
  }
  return loaded;
}
