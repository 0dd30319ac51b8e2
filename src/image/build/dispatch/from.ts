/**
 * FROM: a stage starts from `scratch`, an earlier stage (by name), or an
 * image from the store (pulled first when the caller allows it). The name
 * and --platform are expanded with the global ARGs only. Only the host's
 * platform can be built. The base image's ONBUILD triggers run right after,
 * as Docker runs them, and are not passed on.
 */
import { ErrorKind } from '../../../errors.ts';
import { formatPlatform, parsePlatform, platformMatches } from '../../registry/platform.ts';
import { baseKey } from '../cache.ts';
import { buildError, syntaxError } from '../errors.ts';
import { expandWord, ExpansionError } from '../containerfile/shell-lex.ts';
import type { Stage } from '../containerfile/parse.ts';
import type { Session } from '../session.ts';
import { DEFAULT_PATH, getEnv, ociLayerType, setEnv, type StageState } from '../state.ts';
import type { ImageConfig } from '../../../oci/image-spec.ts';

function expandGlobal(session: Session, stage: Stage, word: string): string {
  try {
    return expandWord(word, session.args.global, session.cf.directives.escape);
  } catch (err) {
    if (err instanceof ExpansionError) throw syntaxError(stage.from.loc, 'FROM', err.message, { cause: err });
    throw err;
  }
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** A config to build on: the base's, without what the build sets anew. */
function baseConfig(base: ImageConfig | undefined, session: Session): ImageConfig {
  const config: ImageConfig = {
    architecture: base?.architecture ?? session.platform.architecture,
    os: base?.os ?? session.platform.os,
    config: clone(base?.config ?? {}),
    rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? [])] },
    history: clone(base?.history ?? []),
  };
  const variant = base === undefined ? session.platform.variant : base.variant;
  if (variant !== undefined) config.variant = variant;
  if (base?.author !== undefined) config.author = base.author;
  const details = config.config ?? {};
  if (getEnv(details.Env ?? [], 'PATH') === undefined) details.Env = setEnv(details.Env ?? [], 'PATH', DEFAULT_PATH);
  config.config = details;
  return config;
}

export async function dispatchFrom(session: Session, stage: Stage): Promise<{ state: StageState; triggers: string[] }> {
  const ins = stage.from;
  const platformFlag = ins.flags.find((f) => f.name === 'platform')?.value;
  if (platformFlag !== undefined) {
    const wanted = parsePlatform(expandGlobal(session, stage, platformFlag));
    if (!platformMatches(wanted, session.platform)) {
      throw buildError(ErrorKind.Unsupported, 'build_platform', ins.loc, 'FROM', `--platform=${formatPlatform(wanted)}: only the host's platform ${session.platformText} can be built`);
    }
  }
  const name = expandGlobal(session, stage, ins.image);
  if (name === '') throw syntaxError(ins.loc, 'FROM', `base name "${ins.image}" is empty after expanding ARGs`);
  const common = { index: stage.index, name: stage.name, args: new Map<string, string | undefined>(), cmdSet: false };
  const earlier = session.cf.stages.find((st) => st.name !== undefined && st.name === name.toLowerCase() && st.index < stage.index);
  if (earlier !== undefined) {
    const built = session.built.get(earlier.index);
    if (built === undefined) throw syntaxError(ins.loc, 'FROM', `stage "${name}" has not been built`);
    const config = clone(built.config);
    const triggers = config.config?.OnBuild ?? [];
    if (config.config !== undefined) delete config.config.OnBuild;
    return {
      state: { ...common, config, layers: [...built.layers], key: baseKey({ stageKey: built.key }, session.platformText), baseName: `stage "${name}"` },
      triggers,
    };
  }
  if (name.toLowerCase() === 'scratch') {
    return { state: { ...common, config: baseConfig(undefined, session), layers: [], key: baseKey('scratch', session.platformText), baseName: 'scratch' }, triggers: [] };
  }
  const img = await session.image(name);
  if (!platformMatches(session.platform, { os: img.os, architecture: img.architecture, ...(img.variant === undefined ? {} : { variant: img.variant }) })) {
    throw buildError(ErrorKind.Unsupported, 'build_platform', ins.loc, 'FROM', `image "${name}" is for ${img.os}/${img.architecture}; berth builds for the host's platform ${session.platformText} only`);
  }
  const base = await session.env.store.readConfig(img);
  const config = baseConfig(base, session);
  const triggers = config.config?.OnBuild ?? [];
  if (config.config !== undefined) delete config.config.OnBuild;
  const layers = img.layers.map((l) => ({ digest: l.digest, mediaType: ociLayerType(l.mediaType), size: l.size, diffId: l.diffId }));
  for (const l of layers) session.keep(l.digest);
  return { state: { ...common, config, layers, key: baseKey({ imageId: img.id }, session.platformText), baseName: name }, triggers };
}
