/**
 * Renders the image libraries' progress events: per-blob bars redrawn in
 * place on a terminal (at most ten times a second), one line per step
 * otherwise (as podman prints them), nothing with --quiet.
 */
import type { BlobKind, ProgressEvent, ProgressSink } from '../../image/progress/events.ts';
import { shortDigest } from '../../image/store/digest.ts';
import type { Output } from './context.ts';

export interface ProgressView {
  sink: ProgressSink;
  finish(): void;
}

interface Row {
  digest: string;
  kind: BlobKind;
  size: number;
  done: number;
  state: 'copying' | 'done' | 'exists' | 'mounted';
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[u]}`;
}

function plain(out: Output): ProgressView {
  const sink = (e: ProgressEvent): void => {
    switch (e.type) {
      case 'blob-start':
        out.write(`Copying ${e.kind} ${shortDigest(e.digest)}\n`);
        break;
      case 'blob-skip':
        out.write(`Copying ${e.kind} ${shortDigest(e.digest)} skipped: ${e.reason === 'exists' ? 'already exists' : 'mounted from the source repository'}\n`);
        break;
      case 'blob-done':
        out.write(`Copying ${e.kind} ${shortDigest(e.digest)} done\n`);
        break;
      case 'retry':
        out.write(`Retrying ${e.what} (attempt ${e.attempt}): ${e.message}\n`);
        break;
      case 'manifest-written':
        out.write(`Writing manifest to image destination\n`);
        break;
      case 'layer-applied':
        out.write(`Unpacked layer ${shortDigest(e.digest)}\n`);
        break;
      default:
        break;
    }
  };
  return { sink, finish: () => undefined };
}

function bar(row: Row, width: number): string {
  const label = `${row.kind === 'config' ? 'config' : 'blob  '} ${shortDigest(row.digest)}`;
  if (row.state === 'exists') return `${label}  skipped: already exists`;
  if (row.state === 'mounted') return `${label}  skipped: mounted`;
  const total = Math.max(row.size, row.done, 1);
  const cells = Math.max(10, Math.min(40, width - label.length - 30));
  const filled = Math.round((row.done / total) * cells);
  const gauge = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (row.state === 'done' ? '=' : '>') : ''}${' '.repeat(cells - filled)}]`;
  const suffix = row.state === 'done' ? 'done' : `${formatBytes(row.done)} / ${formatBytes(row.size)}`;
  return `${label} ${gauge} ${suffix}`;
}

function terminal(out: Output): ProgressView {
  const rows: Row[] = [];
  const byDigest = new Map<string, Row>();
  let drawn = 0;
  let last = 0;
  let manifest: string | undefined;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let text = drawn > 0 ? `\x1b[${drawn}A` : '';
    const lines = rows.map((r) => bar(r, out.columns));
    if (manifest !== undefined) lines.push(manifest);
    for (const l of lines) text += `\x1b[2K${l}\n`;
    drawn = lines.length;
    out.write(text);
  };
  const row = (digest: string, kind: BlobKind, size: number): Row => {
    let r = byDigest.get(digest);
    if (r === undefined) {
      r = { digest, kind, size, done: 0, state: 'copying' };
      byDigest.set(digest, r);
      rows.push(r);
    }
    return r;
  };
  const sink = (e: ProgressEvent): void => {
    switch (e.type) {
      case 'blob-start':
        row(e.digest, e.kind, e.size);
        draw(false);
        break;
      case 'blob-progress': {
        const r = byDigest.get(e.digest);
        if (r !== undefined) r.done += e.bytes;
        draw(false);
        break;
      }
      case 'blob-skip':
        row(e.digest, e.kind, e.size).state = e.reason;
        draw(false);
        break;
      case 'blob-done': {
        const r = byDigest.get(e.digest);
        if (r !== undefined) {
          r.state = 'done';
          r.done = Math.max(r.done, r.size);
        }
        draw(true);
        break;
      }
      case 'manifest-written':
        manifest = 'Writing manifest to image destination';
        draw(true);
        break;
      default:
        break;
    }
  };
  return { sink, finish: () => draw(true) };
}

export function progressView(out: Output, quiet: boolean): ProgressView {
  if (quiet) return { sink: () => undefined, finish: () => undefined };
  return out.isTTY ? terminal(out) : plain(out);
}
