/**
 * Images as `podman images` and the Docker API's image list show them:
 * the store's records, filtered by repository (and tag), each summarised
 * in the JSON fields those tools print (Id, RepoTags, Created, Size, ...).
 */
import type { ImageRecord, ImageStore } from './store/store.ts';

/** "host/repo:tag" → repository and tag ("<none>" when the name has no tag). */
export function splitName(name: string): { repository: string; tag: string } {
  const i = name.lastIndexOf(':');
  return i > name.lastIndexOf('/') ? { repository: name.slice(0, i), tag: name.slice(i + 1) } : { repository: name, tag: '<none>' };
}

/** The store's images; with `reference`, those with a name in that repository (and of that tag, if it has one). */
export function listImages(store: ImageStore, reference?: string): ImageRecord[] {
  const all = store.list();
  if (reference === undefined) return all;
  const want = store.parseName(reference);
  const repo = `${want.domain}/${want.path}`;
  return all.filter((img) =>
    img.names.some((n) => {
      const { repository, tag } = splitName(n);
      return repository === repo && (want.tag === undefined || tag === want.tag);
    }),
  );
}

/** One image as `podman images --format json` prints it. */
export function imageSummary(img: ImageRecord): Record<string, unknown> {
  return {
    Id: img.id.slice(7),
    Digest: img.indexDigest ?? img.manifestDigest,
    ManifestDigest: img.manifestDigest,
    RepoTags: img.names,
    RepoDigests: img.repoDigests,
    Names: img.names,
    Created: img.created === undefined ? null : Math.floor(Date.parse(img.created) / 1000),
    CreatedAt: img.created ?? null,
    Size: img.size,
    Os: img.os,
    Architecture: img.architecture,
    ...(img.variant === undefined ? {} : { Variant: img.variant }),
    Dangling: img.names.length === 0,
  };
}
