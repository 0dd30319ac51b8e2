/**
 * One build's shared state and the step protocol every instruction goes
 * through: report the step, compute its cache key, reuse what the cache
 * holds (metadata steps reuse their history time, layer steps their
 * layer) or do the work, then record the history entry and the cache
 * entry. `--no-cache` skips the lookups, never the recording.
 */
import type { HistoryEntry, Platform } from '../../oci/image-spec.ts';
import type { ImageRecord } from '../store/store.ts';
import type { BuildArgs } from './args.ts';
import { cacheKey, type BuildCache, type CachedLayer } from './cache.ts';
import type { Containerfile } from './containerfile/parse.ts';
import type { BuildEventSink } from './events.ts';
import type { WorkEnv } from './exec/work-snapshot.ts';
import type { SourceRoot } from './sources.ts';
import { addHistory, addLayer, type LayerRef, type StageState } from './state.ts';

export interface Session {
  cf: Containerfile;
  env: WorkEnv;
  cache: BuildCache;
  args: BuildArgs;
  platform: Platform;
  platformText: string;
  noCache: boolean;
  /** --timestamp (seconds): the time of history entries and of the directories berth creates. */
  epoch: number | undefined;
  fixedTime: string | undefined;
  runtimeRoot: string;
  context(): SourceRoot;
  /** Finds an image by name, pulling it when the caller allows. */
  image(name: string): Promise<ImageRecord>;
  built: Map<number, StageState>;
  emit: BuildEventSink;
  signal: AbortSignal | undefined;
  /** Blobs this build wrote or reuses, kept from garbage collection until the image is recorded. */
  keep(digest: string): void;
  counters: { steps: number; total: number; cached: number; runs: number };
}

export interface StepPlan {
  /** The history's created_by: the instruction as it was expanded, flags included. */
  createdBy: string;
  /** Whether the step can change the file system (RUN, COPY, ADD, WORKDIR). */
  layered: boolean;
  /** COPY/ADD: digest of the inputs. */
  inputs?: string;
  /** RUN: ARGs in scope are part of the key. */
  argsInKey?: boolean;
  /** Config changes (applied whether or not the step was cached). */
  apply?: (s: StageState) => void;
  /** The work, for a layered step the cache could not answer; returns the layer (undefined: nothing changed). */
  run?: () => Promise<LayerRef | undefined>;
}

function now(session: Session): string {
  return session.fixedTime ?? new Date().toISOString();
}

async function cachedLayer(session: Session, layer: CachedLayer | undefined): Promise<boolean> {
  if (layer === undefined) return true;
  return (await session.env.store.content.info(layer.digest)) !== undefined;
}

/** Runs one step of a stage under the cache protocol. */
export async function step(session: Session, s: StageState, plan: StepPlan): Promise<void> {
  const key = cacheKey({ parent: s.key, text: plan.createdBy, args: plan.argsInKey === true ? s.args : new Map(), ...(plan.inputs === undefined ? {} : { inputs: plan.inputs }), platform: session.platformText });
  const hit = session.noCache ? undefined : session.cache.get(key);
  let created: string;
  let layer: LayerRef | undefined;
  if (hit !== undefined && (await cachedLayer(session, hit.layer))) {
    created = hit.created;
    layer = plan.layered ? hit.layer : undefined;
    session.counters.cached++;
    session.emit({ type: 'cached', key });
  } else {
    created = now(session);
    layer = plan.layered ? await plan.run?.() : undefined;
    session.cache.put(key, { created, layer });
  }
  plan.apply?.(s);
  if (layer !== undefined) {
    session.keep(layer.digest);
    addLayer(s, layer);
  }
  const entry: HistoryEntry = { created, created_by: plan.createdBy };
  if (layer === undefined) entry.empty_layer = true;
  addHistory(s, entry);
  s.key = key;
}

/** Docker's history text of a metadata instruction. */
export function nop(text: string): string {
  return `/bin/sh -c #(nop) ${text}`;
}
