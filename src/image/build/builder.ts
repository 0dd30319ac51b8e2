/**
 * `buildImage`: a Containerfile and a context directory become an image in
 * the store, the job of `buildah bud` / `docker build`. The stages the
 * target needs (FROM an earlier stage, COPY --from) are built in file
 * order, each instruction through the cache protocol of session.ts; the
 * target stage is committed under the names given. Step snapshots,
 * mounts and containers never outlive the call, failed or not, and what an
 * earlier killed build left is cleaned first.
 */
import { join } from 'node:path';
import { statSync } from 'node:fs';
import * as sys from '../../sys/index.ts';
import { describeError, ErrorKind, invalidArgument, isBerthError, notFound, unsupported } from '../../errors.ts';
import type { Platform } from '../../oci/image-spec.ts';
import { formatPlatform, hostPlatform, platformMatches } from '../registry/platform.ts';
import { Snapshotter, type SnapshotDriver } from '../snapshot/index.ts';
import type { ImageRecord, ImageStore } from '../store/store.ts';
import { BuildArgs } from './args.ts';
import { BuildCache } from './cache.ts';
import { commitBuild } from './commit.ts';
import { parseContainerfile, type Containerfile, type Stage } from './containerfile/parse.ts';
import { parseInstruction } from './containerfile/instructions.ts';
import { expandWord } from './containerfile/shell-lex.ts';
import { dispatch } from './dispatch/index.ts';
import { dispatchFrom } from './dispatch/from.ts';
import { buildError, where } from './errors.ts';
import type { BuildEventSink } from './events.ts';
import { cleanupStale } from './exec/work-snapshot.ts';
import { cleanupStaleContainers } from './exec/run-container.ts';
import type { Session } from './session.ts';
import { contextIgnore, openRootDir, type SourceRoot } from './sources.ts';
import type { StageState } from './state.ts';

export interface BuildOptions {
  /** The Containerfile's text and the name errors call it by. */
  containerfile: { text: string; name: string };
  /** The context directory COPY and ADD read from. */
  context: string;
  /** Names for the image ("name[:tag]"). */
  tags?: string[];
  buildArgs?: ReadonlyMap<string, string>;
  /** Build up to this stage (name or index) instead of the last. */
  target?: string;
  noCache?: boolean;
  /** Must be the host's platform (the only one berth can build for). */
  platform?: Platform;
  /** Seconds since the epoch: history times, and the times of directories berth creates. */
  timestamp?: number;
  /** Brings an image missing from the store (FROM, COPY --from); without it, a missing image is an error. */
  pull?: (name: string) => Promise<ImageRecord>;
  onEvent?: BuildEventSink;
  signal?: AbortSignal;
  /** Force a snapshot driver (tests); detected otherwise. */
  driver?: SnapshotDriver;
}

export interface BuildResult {
  image: ImageRecord;
  /** Steps run, steps answered by the cache, RUN containers started. */
  steps: number;
  cached: number;
  runs: number;
  warnings: string[];
}

/** An error located at the instruction, unless it already names a place in the file. */
function located(err: unknown, loc: { file: string; line: number }, keyword: string): unknown {
  if (isBerthError(err) && typeof err.details['file'] === 'string') return err;
  if (err instanceof DOMException && err.name === 'AbortError') return err;
  const kind = isBerthError(err) ? err.kind : ErrorKind.Internal;
  const code = isBerthError(err) ? err.code : 'build_failed';
  return buildError(kind, code, loc, keyword, describeError(err), { cause: err, details: isBerthError(err) ? err.details : {} });
}

function stageByName(cf: Containerfile, name: string, before: number): Stage | undefined {
  const lower = name.toLowerCase();
  return cf.stages.find((s) => s.index < before && (s.name === lower || (/^\d+$/.test(name) && s.index === Number(name))));
}

/** The stages the target needs, in file order. */
function neededStages(cf: Containerfile, target: Stage, globals: ReadonlyMap<string, string | undefined>, escape: string): Stage[] {
  const need = new Set<number>();
  const visit = (s: Stage): void => {
    if (need.has(s.index)) return;
    need.add(s.index);
    const expand = (w: string): string => {
      try {
        return expandWord(w, globals, escape);
      } catch {
        return w;
      }
    };
    const base = cf.stages.find((x) => x.index < s.index && x.name !== undefined && x.name === expand(s.from.image).toLowerCase());
    if (base !== undefined) visit(base);
    for (const ins of s.instructions) {
      const from = ins.kind === 'COPY' ? ins.flags.find((f) => f.name === 'from')?.value : undefined;
      if (from === undefined) continue;
      const dep = stageByName(cf, expand(from), s.index);
      if (dep !== undefined) visit(dep);
    }
  };
  visit(target);
  return cf.stages.filter((s) => need.has(s.index));
}

function targetStage(cf: Containerfile, target: string | undefined): Stage {
  if (target === undefined) return cf.stages[cf.stages.length - 1] as Stage;
  const found = stageByName(cf, target, cf.stages.length);
  if (found === undefined) {
    const names = cf.stages.map((s) => s.name).filter((n) => n !== undefined);
    throw notFound('build_target', `--target ${target}: no such stage in ${cf.file} (stages: ${names.length > 0 ? names.join(', ') : 'none named'})`);
  }
  return found;
}

function openContext(dir: string): SourceRoot {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    throw notFound('build_context_not_found', `build context "${dir}": not found`, { cause: err });
  }
  if (!st.isDirectory()) throw invalidArgument('build_context_not_dir', `build context "${dir}": not a directory`);
  const fd = openRootDir(dir);
  try {
    return { fd, describe: 'the context', ignore: contextIgnore(fd), keepOwners: false };
  } catch (err) {
    sys.close(fd);
    throw err;
  }
}

async function buildStage(session: Session, stage: Stage): Promise<StageState> {
  const file = session.cf.file;
  const total = session.counters.total;
  const announce = (text: string, line: number): void => {
    session.counters.steps++;
    session.emit({ type: 'step', step: session.counters.steps, total, stage: stage.index, stageName: stage.name, text, loc: { file, line } });
  };
  announce(stage.from.original, stage.from.loc.line);
  let from;
  try {
    from = await dispatchFrom(session, stage);
  } catch (err) {
    throw located(err, stage.from.loc, 'FROM');
  }
  const state = from.state;
  for (const trigger of from.triggers) {
    const ins = parseInstruction({ text: trigger, line: stage.from.loc.line, endLine: stage.from.loc.line, heredocs: [] }, file, session.cf.directives.escape);
    session.emit({ type: 'warning', message: `${where(stage.from.loc)}: running the base image's ONBUILD trigger: ${trigger}` });
    try {
      await dispatch(session, state, ins);
    } catch (err) {
      throw located(err, stage.from.loc, `ONBUILD ${ins.keyword}`);
    }
  }
  for (const ins of stage.instructions) {
    session.signal?.throwIfAborted();
    announce(ins.original, ins.loc.line);
    try {
      await dispatch(session, state, ins);
    } catch (err) {
      throw located(err, ins.loc, ins.keyword);
    }
  }
  return state;
}

export async function buildImage(store: ImageStore, options: BuildOptions): Promise<BuildResult> {
  const cf = parseContainerfile(options.containerfile.text, options.containerfile.name);
  const host = hostPlatform();
  if (options.platform !== undefined && !platformMatches(options.platform, host)) {
    throw unsupported('build_platform', `--platform ${formatPlatform(options.platform)}: only the host's platform ${formatPlatform(host)} can be built`);
  }
  const warnings = [...cf.warnings];
  const emit: BuildEventSink = (e) => {
    if (e.type === 'warning') warnings.push(e.message);
    options.onEvent?.(e);
  };
  for (const w of cf.warnings) options.onEvent?.({ type: 'warning', message: w });
  const args = new BuildArgs(options.buildArgs ?? new Map(), host);
  for (const ins of cf.globalArgs) {
    for (const a of ins.args) args.declareGlobal(a.name, a.value === undefined ? undefined : expandWord(a.value, args.global, cf.directives.escape));
  }
  const target = targetStage(cf, options.target);
  const stages = neededStages(cf, target, args.global, cf.directives.escape);
  const context = openContext(options.context);
  const cache = new BuildCache(join(store.root, 'build', 'cache.db'));
  const lease = store.lease();
  try {
    const snapshotter = await Snapshotter.open(store.root, options.driver === undefined ? {} : { driver: options.driver });
    const env = { store, snapshotter, workDir: join(store.root, 'build', 'work') };
    // A build that was killed leaves its container, mounts and step snapshots: the container goes first (it holds the mounts).
    await cleanupStaleContainers(join(store.root, 'build', 'runtime'));
    await cleanupStale(env);
    const fixedTime = options.timestamp === undefined ? undefined : new Date(options.timestamp * 1000).toISOString();
    const session: Session = {
      cf,
      env,
      cache,
      args,
      platform: host,
      platformText: formatPlatform(host),
      noCache: options.noCache === true,
      epoch: options.timestamp,
      fixedTime,
      runtimeRoot: join(store.root, 'build', 'runtime'),
      context: () => context,
      image: async (name) => {
        const found = store.tryResolve(name);
        if (found !== undefined) return found;
        if (options.pull === undefined) throw notFound('build_image', `image "${name}": not in the store (berth pull it first)`);
        emit({ type: 'pull', image: name });
        return options.pull(name);
      },
      built: new Map(),
      emit,
      signal: options.signal,
      keep: (digest) => lease.add(digest),
      counters: { steps: 0, total: stages.reduce((n, s) => n + 1 + s.instructions.length, 0), cached: 0, runs: 0 },
    };
    let last: StageState | undefined;
    for (const stage of stages) {
      last = await buildStage(session, stage);
      session.built.set(stage.index, last);
    }
    // assertion: the parser refuses a Containerfile without FROM, so there is at least one stage.
    if (last === undefined) throw new Error('no stage was built');
    const image = await commitBuild(store, last, options.tags ?? [], (d) => session.keep(d), fixedTime ?? new Date().toISOString());
    emit({ type: 'commit', names: image.names });
    const unused = args.unused();
    if (unused.length > 0) emit({ type: 'warning', message: `one or more build args were not consumed: ${unused.join(', ')}` });
    return { image, steps: session.counters.steps, cached: session.counters.cached, runs: session.counters.runs, warnings };
  } finally {
    lease.release();
    cache.close();
    sys.close(context.fd);
  }
}
