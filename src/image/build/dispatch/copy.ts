/**
 * COPY and ADD. Sources come from the build context (ignore rules
 * applied, files become root's), or with COPY --from from an earlier stage
 * or an image (owners kept). A directory source copies its contents; a
 * file goes to DEST/name when DEST ends in "/" or is a directory, else to
 * DEST itself; several sources need a DEST ending in "/". ADD also
 * extracts local tar archives (gzip, zstd, plain) into DEST; remote URLs
 * cannot be fetched by an offline build and are refused. --chown names are
 * looked up in the image's own passwd and group files, --chmod is octal.
 *
 * The cache key takes the inputs' digest (names, modes, contents; for
 * --from, the source stage's chain ID), so changing a copied file
 * invalidates this step and all after it.
 */
import { createHash } from 'node:crypto';
import { describeError, ErrorKind, isBerthError } from '../../../errors.ts';
import { readUserDb } from '../../bundle/read-user-db.ts';
import { Rootfs } from '../../unpack/rootfs.ts';
import { buildError, syntaxError } from '../errors.ts';
import { sniffArchive, UnsupportedArchive } from '../exec/archive.ts';
import { ChownProblem, parseChmod, parseChown } from '../exec/chown.ts';
import { copyInto, type CopyOp } from '../exec/copy-into.ts';
import { resolveInRoot } from '../exec/in-root.ts';
import { ensureChain, withStateView } from '../exec/views.ts';
import { withWorkSnapshot } from '../exec/work-snapshot.ts';
import { absoluteIn, basename, joinRel, relativeToRoot } from '../paths.ts';
import { nop, step, type Session } from '../session.ts';
import { digestSources, openRootDir, resolveSource, SourceProblem, type SourceMatch, type SourceRoot } from '../sources.ts';
import { details, ociLayerType, topChainId, type LayerRef, type StageState } from '../state.ts';
import type { Compression } from '../../transport/compression.ts';
import * as sys from '../../../sys/index.ts';
import { expand, type Of } from './metadata.ts';

type CopyIns = Of<'COPY'> | Of<'ADD'>;

const REMOTE = /^(?:https?:\/\/|git@|git:\/\/|ssh:\/\/)/i;

/** Where sources come from: the context, or an earlier stage or an image for COPY --from. */
interface From {
  describe: string;
  /** A stage or image: its layers (mounted as a view while copying); undefined for the context. */
  layers: LayerRef[] | undefined;
  /** What identifies the source content in the cache key (the chain ID of a stage or image). */
  identity: string | undefined;
}

async function sourceOf(session: Session, s: StageState, ins: CopyIns): Promise<From> {
  const flag = ins.flags.find((f) => f.name === 'from');
  if (flag === undefined) return { describe: 'the context', layers: undefined, identity: undefined };
  if (ins.kind === 'ADD') throw syntaxError(ins.loc, 'ADD', '--from is a COPY flag');
  const name = expand(session, s, ins, flag.value ?? '').toLowerCase();
  const stage = session.cf.stages.find((st) => st.name === name) ?? (/^\d+$/.test(name) ? session.cf.stages[Number(name)] : undefined);
  if (stage !== undefined) {
    if (stage.index >= s.index) throw syntaxError(ins.loc, ins.keyword, `--from=${name}: stage ${stage.index} is not an earlier stage`);
    const built = session.built.get(stage.index);
    if (built === undefined) throw syntaxError(ins.loc, ins.keyword, `--from=${name}: stage has not been built`);
    const label = stage.name === undefined ? `stage ${stage.index}` : `stage "${stage.name}"`;
    return { describe: label, layers: built.layers, identity: `stage:${topChainId(built) ?? 'empty'}` };
  }
  const img = await session.image(expand(session, s, ins, flag.value ?? ''));
  const layers = img.layers.map((l) => ({ digest: l.digest, mediaType: ociLayerType(l.mediaType), size: l.size, diffId: l.diffId }));
  return { describe: `image "${flag.value ?? ''}"`, layers, identity: `image:${img.id}` };
}

interface Planned {
  matches: { match: SourceMatch; extract: Compression | undefined }[];
  sources: string[];
  dest: string;
  destIsDir: boolean;
}

function checkFlags(ins: CopyIns): void {
  for (const f of ins.flags) {
    if (f.name === 'exclude' || f.name === 'parents' || f.name === 'checksum' || f.name === 'keep-git-dir') {
      throw syntaxError(ins.loc, ins.keyword, `--${f.name} is not supported by berth build`);
    }
  }
}

/** Sources resolved in their root; ADD archives recognised. */
async function plan(session: Session, s: StageState, ins: CopyIns, root: SourceRoot): Promise<Planned> {
  const words = ins.paths.map((p) => expand(session, s, ins, p));
  const rawDest = words[words.length - 1] ?? '';
  const sources = words.slice(0, -1);
  const matches: Planned['matches'] = [];
  for (const src of sources) {
    if (REMOTE.test(src)) {
      throw buildError(ErrorKind.Unsupported, 'build_remote_source', ins.loc, ins.keyword, `remote source "${src}" cannot be fetched: berth builds offline (download it into the context and COPY it)`);
    }
    let found: SourceMatch[];
    try {
      found = resolveSource(root, src);
    } catch (err) {
      if (err instanceof SourceProblem) throw buildError(ErrorKind.NotFound, 'build_source_not_found', ins.loc, ins.keyword, err.message, { cause: err });
      throw err;
    }
    for (const m of found) {
      let extract: Compression | undefined;
      if (ins.kind === 'ADD' && m.node.type === 'file') {
        try {
          extract = await sniffArchive(root, m);
        } catch (err) {
          if (err instanceof UnsupportedArchive) throw buildError(ErrorKind.Unsupported, 'build_archive', ins.loc, 'ADD', `source "${src}": ${err.message}`);
          throw err;
        }
      }
      matches.push({ match: m, extract });
    }
  }
  const cwd = details(s).WorkingDir ?? '/';
  const dest = absoluteIn(cwd === '' ? '/' : cwd, rawDest);
  const destIsDir = /\/\.?$/.test(rawDest) || rawDest === '.';
  if (matches.length > 1 && !destIsDir) {
    throw syntaxError(ins.loc, ins.keyword, `when copying more than one source file, the destination must be a directory and end with a / (got "${rawDest}")`);
  }
  return { matches, sources, dest, destIsDir };
}

/** Directories a COPY creates take the newest time among its sources: the same context always gives the same layer. */
function newest(p: Planned): number {
  return Math.max(0, ...p.matches.map((m) => m.match.node.st.mtime.sec));
}

/** Docker's history text: `COPY file:HASH in /dest`, `dir:`, `multi:`; `from:` for a stage or image source. */
function historyText(ins: CopyIns, p: Planned | undefined, words: string[], inputs: string): string {
  const kinds = new Set(p?.matches.map((m) => (m.match.node.type === 'dir' ? 'dir' : 'file')) ?? []);
  const kind = p === undefined ? 'from' : p.matches.length > 1 ? 'multi' : ([...kinds][0] ?? 'file');
  const flags = ins.flags.map((f) => (f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`)).join(' ');
  return nop(`${ins.keyword} ${flags === '' ? '' : `${flags} `}${kind}:${inputs.slice(7)} in ${words[words.length - 1] ?? ''} `);
}

/** Turns the plan into copy operations against the mounted destination root (dest resolved inside it). */
function operations(target: Rootfs, root: SourceRoot, p: Planned): { ops: CopyOp[]; createDirs: string[] } {
  const destRel = Buffer.from(relativeToRoot(p.dest), 'utf8').toString('latin1');
  const resolved = resolveInRoot(target, destRel);
  const everyoneIntoDir = p.destIsDir || resolved.type === 'dir' || p.matches.some((m) => m.match.node.type === 'dir' || m.extract !== undefined);
  const createDirs: string[] = [];
  const ops: CopyOp[] = [];
  if (everyoneIntoDir) {
    if (resolved.type !== undefined && resolved.type !== 'dir') throw new SourceProblem(`destination "${p.dest}" exists and is not a directory`);
    if (resolved.type === undefined) createDirs.push(...missingDirs(target, resolved.path));
    for (const { match, extract } of p.matches) {
      if (match.node.type === 'dir') ops.push({ root, match, dest: resolved.path, contents: true });
      else if (extract !== undefined) ops.push({ root, match, dest: resolved.path, contents: false, extract });
      else ops.push({ root, match, dest: joinRel(resolved.path, Buffer.from(basename(Buffer.from(match.given, 'latin1').toString('utf8')), 'utf8').toString('latin1')), contents: false });
    }
  } else {
    const parent = resolved.path.includes('/') ? resolved.path.slice(0, resolved.path.lastIndexOf('/')) : '';
    createDirs.push(...missingDirs(target, parent));
    for (const { match } of p.matches) ops.push({ root, match, dest: resolved.path, contents: false });
  }
  return { ops, createDirs };
}

/** The parts of `path` (already resolved as far as it exists) that do not exist yet, parents first. */
function missingDirs(target: Rootfs, path: string): string[] {
  const out: string[] = [];
  const parts = path === '' ? [] : path.split('/');
  for (let n = 1; n <= parts.length; n++) {
    const prefix = parts.slice(0, n).join('/');
    try {
      sys.close(target.openIn(prefix, sys.O_PATH));
    } catch {
      out.push(prefix);
    }
  }
  return out;
}

async function withSourceRoot<T>(session: Session, from: From, fn: (root: SourceRoot) => Promise<T>): Promise<T> {
  if (from.layers === undefined) return fn(session.context());
  return withStateView(session.env, from.layers, async (dir) => {
    const fd = openRootDir(dir);
    try {
      return await fn({ fd, describe: from.describe, ignore: undefined, keepOwners: true });
    } finally {
      sys.close(fd);
    }
  });
}

export async function dispatchCopy(session: Session, s: StageState, ins: CopyIns): Promise<void> {
  checkFlags(ins);
  const from = await sourceOf(session, s, ins);
  const chown = ins.flags.find((f) => f.name === 'chown')?.value;
  const chmodText = ins.flags.find((f) => f.name === 'chmod')?.value;
  let mode: number | undefined;
  try {
    mode = chmodText === undefined ? undefined : parseChmod(expand(session, s, ins, chmodText));
  } catch (err) {
    throw syntaxError(ins.loc, ins.keyword, describeError(err));
  }
  const chownSpec = chown === undefined ? undefined : expand(session, s, ins, chown);
  // The context is planned (and digested) now; a stage or image is identified by its chain and planned only when the step runs.
  const words = ins.paths.map((p) => expand(session, s, ins, p));
  let planned: Planned | undefined;
  let inputs: string;
  if (from.layers === undefined) {
    const p = await plan(session, s, ins, session.context());
    const h = createHash('sha256').update(`context\0${digestSources(session.context(), p.matches.map((m) => m.match))}`);
    for (const m of p.matches) h.update(`\0${m.extract ?? '-'}`);
    planned = p;
    inputs = `sha256:${h.digest('hex')}`;
  } else {
    inputs = `sha256:${createHash('sha256').update(`${from.identity ?? ''}\0${words.join('\0')}`).digest('hex')}`;
  }
  const createdBy = historyText(ins, planned, words, inputs);
  await step(session, s, {
    createdBy,
    layered: true,
    inputs,
    run: async () => {
      const parent = await ensureChain(session.env, s.layers);
      try {
        const outcome = await withWorkSnapshot(session.env, parent, (target) =>
          withSourceRoot(session, from, async (root) => {
            // The source root was replanned against the same content: a view mounts again, the context is the same directory.
            const p = planned ?? (await plan(session, s, ins, root));
            using rootfs = Rootfs.open(target);
            const owner = chownSpec === undefined ? undefined : parseChown(chownSpec, readUserDb(rootfs));
            const { ops, createDirs } = operations(rootfs, root, p);
            await copyInto(rootfs, ops, { owner, mode, epoch: session.epoch ?? newest(p), createDirs });
          }),
        );
        if (outcome.layer !== undefined) session.emit({ type: 'layer', digest: outcome.layer.digest, diffId: outcome.layer.diffId, size: outcome.layer.size });
        return outcome.layer;
      } catch (err) {
        if (err instanceof ChownProblem || err instanceof SourceProblem) throw buildError(ErrorKind.InvalidArgument, 'build_copy_invalid', ins.loc, ins.keyword, err.message, { cause: err });
        if (isBerthError(err) && err.code.startsWith('build_')) throw err;
        throw buildError(ErrorKind.FailedPrecondition, 'build_copy_failed', ins.loc, ins.keyword, describeError(err), { cause: err });
      }
    },
  });
}
