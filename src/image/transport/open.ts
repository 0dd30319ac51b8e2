/**
 * Opening a parsed transport reference as a source or a destination.
 */
import { mkdir } from 'node:fs/promises';
import { repositoryName, withDefaultTag, formatReference } from '../registry/reference.ts';
import type { ImageStore } from '../store/store.ts';
import { DockerArchiveDestination, OciArchiveDestination, openDockerArchiveSource, openOciArchiveSource } from './archive.ts';
import { registryClient, RegistryDestination, RegistrySource, type RegistryOptions } from './docker.ts';
import { DirFileSet } from './files.ts';
import { OciLayoutDestination, OciLayoutSource } from './oci-layout.ts';
import { StoreDestination, StoreSource, type StoreDestinationOptions } from './store.ts';
import type { TransportRef } from './parse.ts';
import type { ImageDestination, ImageSource } from './types.ts';
import { invalidArgument } from '../../errors.ts';

export interface TransportContext {
  /** Opened on demand (only the store transport needs it). */
  store: () => Promise<ImageStore>;
  registry?: RegistryOptions;
}

export async function openSource(t: TransportRef, ctx: TransportContext): Promise<ImageSource> {
  switch (t.transport) {
    case 'docker':
      return new RegistrySource(t.ref, await registryClient(t.ref.domain, ctx.registry));
    case 'oci':
      return new OciLayoutSource(new DirFileSet(t.path), t.ref, `oci:${t.path}${t.ref === undefined ? '' : `:${t.ref}`}`);
    case 'oci-archive':
      return openOciArchiveSource(t.path, t.ref);
    case 'docker-archive':
      return openDockerArchiveSource(t.path, t.ref);
    case 'store': {
      const store = await ctx.store();
      return new StoreSource(store, store.resolve(t.name), t.name);
    }
  }
}

export async function openDestination(
  t: TransportRef,
  ctx: TransportContext,
  storeOptions: Partial<StoreDestinationOptions> = {},
): Promise<ImageDestination> {
  switch (t.transport) {
    case 'docker':
      return new RegistryDestination(t.ref, await registryClient(t.ref.domain, ctx.registry), ctx.registry?.chunkSize);
    case 'oci': {
      const d = new OciLayoutDestination(t.path, t.ref, `oci:${t.path}${t.ref === undefined ? '' : `:${t.ref}`}`);
      await mkdir(t.path, { recursive: true });
      await d.init();
      return d;
    }
    case 'oci-archive':
      return new OciArchiveDestination(t.path, t.ref);
    case 'docker-archive':
      return new DockerArchiveDestination(t.path, t.ref);
    case 'store': {
      const store = await ctx.store();
      const ref = store.parseName(t.name);
      if (ref.digest !== undefined && ref.tag === undefined) {
        throw invalidArgument('invalid_tag', `berth:${t.name}: a store destination needs a name with a tag, not a digest`);
      }
      return new StoreDestination(store, { names: [formatReference(withDefaultTag(ref))], ...storeOptions });
    }
  }
}

/** The "host/repo@digest" a registry source's manifest is known by in the store. */
export function repoDigestsFor(t: TransportRef): ((digest: string) => string[]) | undefined {
  if (t.transport !== 'docker') return undefined;
  const repo = repositoryName(t.ref);
  return (digest) => [`${repo}@${digest}`];
}
