/**
 * WORKDIR: sets the working directory (a relative path continues the one
 * before) and creates it when the stage lacks it, as a layer of its own;
 * when it exists the step is metadata only. The directories it creates are
 * timed at --timestamp, by default the Unix epoch: later COPY layers list
 * them as parents, and a fixed time keeps those layers reproducible.
 */
import { describeError, ErrorKind, failedPrecondition } from '../../../errors.ts';
import { Rootfs } from '../../unpack/rootfs.ts';
import { buildError, syntaxError } from '../errors.ts';
import { copyInto } from '../exec/copy-into.ts';
import { resolveInRoot } from '../exec/in-root.ts';
import { ensureChain, withStateView } from '../exec/views.ts';
import { withWorkSnapshot } from '../exec/work-snapshot.ts';
import { absoluteIn, relativeToRoot } from '../paths.ts';
import { nop, step, type Session } from '../session.ts';
import { details, type StageState } from '../state.ts';
import * as sys from '../../../sys/index.ts';
import { expand, type Of } from './metadata.ts';

function missing(root: Rootfs, rel: string): string[] {
  if (rel === '') return [];
  const resolved = resolveInRoot(root, rel);
  if (resolved.type !== undefined && resolved.type !== 'dir') throw failedPrecondition('build_not_a_directory', `"/${rel}" exists and is not a directory`);
  if (resolved.type === 'dir') return [];
  const out: string[] = [];
  const parts = resolved.path.split('/');
  for (let n = 1; n <= parts.length; n++) {
    const prefix = parts.slice(0, n).join('/');
    try {
      sys.close(root.openIn(prefix, sys.O_PATH));
    } catch {
      out.push(prefix);
    }
  }
  return out;
}

export async function dispatchWorkdir(session: Session, s: StageState, ins: Of<'WORKDIR'>): Promise<void> {
  const value = expand(session, s, ins, ins.value);
  if (value === '') throw syntaxError(ins.loc, 'WORKDIR', 'WORKDIR must not be empty');
  const cwd = details(s).WorkingDir ?? '/';
  const path = absoluteIn(cwd === '' ? '/' : cwd, value);
  const rel = Buffer.from(relativeToRoot(path), 'utf8').toString('latin1');
  await step(session, s, {
    createdBy: nop(`WORKDIR ${path}`),
    layered: true,
    apply: (st) => {
      details(st).WorkingDir = path;
    },
    run: async () => {
      try {
        const needed = await withStateView(session.env, s.layers, (root) => {
          using r = Rootfs.open(root);
          return missing(r, rel).length > 0;
        });
        if (!needed) return undefined;
        const parent = await ensureChain(session.env, s.layers);
        const outcome = await withWorkSnapshot(session.env, parent, async (target) => {
          using r = Rootfs.open(target);
          await copyInto(r, [], { owner: undefined, mode: undefined, epoch: session.epoch ?? 0, createDirs: missing(r, rel) });
        });
        if (outcome.layer !== undefined) session.emit({ type: 'layer', digest: outcome.layer.digest, diffId: outcome.layer.diffId, size: outcome.layer.size });
        return outcome.layer;
      } catch (err) {
        throw buildError(ErrorKind.FailedPrecondition, 'build_workdir', ins.loc, 'WORKDIR', describeError(err), { cause: err });
      }
    },
  });
}
