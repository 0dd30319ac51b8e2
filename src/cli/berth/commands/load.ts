/**
 * `berth load -i FILE` — every image of a docker-archive or oci-archive into
 * the store, named as the archive names it (RepoTags, or the
 * org.opencontainers.image.ref.name annotation when it is a full name).
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
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

const usage = 'berth load [--input FILE]   (default: stdin)';

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
    let file = str(p, 'input');
    let scratch: string | undefined;
    if (file === undefined) {
      // An archive is read by offset, so stdin is saved to a file first.
      if (process.stdin.isTTY) throw invalidArgument('missing_flag', `--input: required when stdin is a terminal\nusage: ${usage}`);
      scratch = mkdtempSync(join(tmpdir(), 'berth-load-'));
      file = join(scratch, 'image.tar');
      await pipeline(process.stdin, createWriteStream(file));
    }
    try {
      return await loadArchive(ctx, file);
    } finally {
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    }
  },
};

async function loadArchive(ctx: CommandContext, file: string): Promise<number> {
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
}
