/**
 * `berth load -i FILE` — every image of a docker-archive or oci-archive into
 * the store, named as the archive names it (RepoTags, or the
 * org.opencontainers.image.ref.name annotation when it is a full name).
 */
import { invalidArgument } from '../../../errors.ts';
import { parseReference } from '../../../image/registry/reference.ts';
import { parseIndex } from '../../../image/store/manifest.ts';
import { REF_NAME } from '../../../image/transport/oci-layout.ts';
import { ArchiveIndex } from '../../../image/transport/tar-index.ts';
import type { TransportRef } from '../../../image/transport/parse.ts';
import { parseJson } from '../../../image/store/manifest.ts';
import { operands, str, type Parsed } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { runCopy } from './common.ts';
import type { Command } from './command.ts';

const usage = 'berth load --input FILE';

function asName(s: string): string | undefined {
  try {
    const r = parseReference(s);
    return r.tag === undefined && !s.includes('/') ? undefined : s;
  } catch {
    return undefined;
  }
}

export const load: Command = {
  usage,
  summary: 'Load images from a docker-archive or oci-archive file',
  options: { input: { type: 'string', short: 'i' } },
  async run(ctx: CommandContext, p: Parsed) {
    operands(p, 0, 0, usage);
    const file = str(p, 'input');
    if (file === undefined) throw invalidArgument('missing_flag', `--input: required\nusage: ${usage}`);
    const index = await ArchiveIndex.open(file);
    const jobs: { from: TransportRef; names: string[] }[] = [];
    if (index.has('manifest.json')) {
      const doc = parseJson(index.smallFile('manifest.json'), `${file}: manifest.json`);
      const entries = Array.isArray(doc) ? doc : [];
      entries.forEach((e: unknown, i) => {
        const raw = typeof e === 'object' && e !== null ? (e as { RepoTags?: unknown }).RepoTags : undefined;
        const tags = Array.isArray(raw) ? raw.filter((t): t is string => typeof t === 'string') : [];
        jobs.push({ from: { transport: 'docker-archive', path: file, ref: `@${i}` }, names: tags });
      });
    } else if (index.has('index.json')) {
      const idx = parseIndex(index.smallFile('index.json'), `${file}: index.json`);
      for (const m of idx.manifests) {
        const ref = m.annotations?.[REF_NAME];
        if (ref === undefined) throw invalidArgument('unnamed_image', `${file}: index.json entry ${m.digest} has no ${REF_NAME}; use berth image copy`);
        const name = asName(ref);
        jobs.push({ from: { transport: 'oci-archive', path: file, ref }, names: name === undefined ? [] : [name] });
      }
    } else {
      throw invalidArgument('unknown_archive', `${file}: neither a docker-archive (manifest.json) nor an oci-archive (index.json)`);
    }
    const store = await ctx.store();
    for (const job of jobs) {
      const [first, ...more] = job.names;
      // An unnamed image is written under a placeholder name that is dropped again (it stays as <none>).
      const placeholder = `localhost/berth-load-${process.pid}:unnamed`;
      const r = await runCopy(ctx, job.from, { transport: 'store', name: first ?? placeholder });
      const id = r.imageId ?? r.configDigest;
      for (const n of more) store.tag(id, n);
      if (first === undefined) store.untag(placeholder);
      ctx.out(`Loaded image: ${first === undefined ? id : store.canonicalTagged(first)}\n`);
    }
    return 0;
  },
};
