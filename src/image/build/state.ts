/**
 * What a stage is while it is built: the image config as it grows (Env,
 * Cmd, history, diff_ids...), its layers, the cache key of its last step,
 * and the ARGs in scope. Plain data; the dispatchers change it.
 */
import { MediaType, type HistoryEntry, type ImageConfig, type ImageConfigDetails } from '../../oci/image-spec.ts';
import { chainIds } from '../snapshot/index.ts';
import type { Vars } from './containerfile/shell-lex.ts';

export interface LayerRef {
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
}

export interface StageState {
  index: number;
  name: string | undefined;
  config: ImageConfig;
  layers: LayerRef[];
  /** Cache key of the state so far. */
  key: string;
  /** ARGs declared in this stage, with their values (undefined: declared without one). */
  args: Map<string, string | undefined>;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** What to call the base in messages ("scratch", an image name, "stage build"). */
  baseName: string;
}

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker media types of base layers, as their OCI equals (the bytes are the same). */
export function ociLayerType(mediaType: string): string {
  if (mediaType === MediaType.DockerLayerGzip || mediaType === MediaType.DockerForeignLayerGzip) return MediaType.OciLayerGzip;
  if (mediaType === 'application/vnd.docker.image.rootfs.diff.tar') return MediaType.OciLayer;
  return mediaType;
}

export function details(s: StageState): ImageConfigDetails {
  s.config.config ??= {};
  return s.config.config;
}

export function envList(s: StageState): string[] {
  return details(s).Env ?? [];
}

export function getEnv(env: readonly string[], name: string): string | undefined {
  for (const e of env) {
    const eq = e.indexOf('=');
    if ((eq === -1 ? e : e.slice(0, eq)) === name) return eq === -1 ? '' : e.slice(eq + 1);
  }
  return undefined;
}

export function setEnv(env: string[], name: string, value: string): string[] {
  const out = env.filter((e) => e !== name && !e.startsWith(`${name}=`));
  const i = env.findIndex((e) => e === name || e.startsWith(`${name}=`));
  const entry = `${name}=${value}`;
  if (i === -1) out.push(entry);
  else out.splice(i, 0, entry);
  return out;
}

/** Variables for expanding an instruction: the stage's ARGs, overridden by its ENV (as Docker). */
export function expansionVars(s: StageState): Vars {
  const vars = new Map<string, string | undefined>(s.args);
  for (const e of envList(s)) {
    const eq = e.indexOf('=');
    if (eq > 0) vars.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return vars;
}

export function shellOf(s: StageState): string[] {
  const sh = details(s).Shell;
  return sh !== undefined && sh.length > 0 ? sh : DEFAULT_SHELL;
}

export function topChainId(s: StageState): string | undefined {
  return chainIds(s.layers.map((l) => l.diffId)).at(-1);
}

export function addHistory(s: StageState, entry: HistoryEntry): void {
  (s.config.history ??= []).push(entry);
}

export function addLayer(s: StageState, layer: LayerRef): void {
  s.layers.push(layer);
  s.config.rootfs.diff_ids.push(layer.diffId);
}
