import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, progressView } from '../../../../src/cli/berth/progress.ts';
import type { ProgressEvent } from '../../../../src/image/progress/events.ts';
import { digestOf } from '../../../../src/image/store/digest.ts';

const layer = digestOf('layer');
const config = digestOf('config');
const events: ProgressEvent[] = [
  { type: 'blob-skip', digest: config, kind: 'config', size: 10, reason: 'exists' },
  { type: 'blob-start', digest: layer, kind: 'layer', size: 2_000_000 },
  { type: 'blob-progress', digest: layer, bytes: 1_000_000 },
  { type: 'blob-progress', digest: layer, bytes: 1_000_000 },
  { type: 'blob-done', digest: layer, kind: 'layer' },
  { type: 'manifest-written', digest: digestOf('m'), destination: 'docker://x' },
];

function render(isTTY: boolean, quiet: boolean): string {
  let out = '';
  const view = progressView({ write: (t) => void (out += t), isTTY, columns: 100 }, quiet);
  for (const e of events) view.sink(e);
  view.finish();
  return out;
}

test('plain output is one line per step, as podman prints them', () => {
  assert.equal(
    render(false, false),
    `Copying config ${config.slice(7, 19)} skipped: already exists\nCopying layer ${layer.slice(7, 19)}\nCopying layer ${layer.slice(7, 19)} done\nWriting manifest to image destination\n`,
  );
});

test('a terminal gets bars redrawn in place; --quiet gets nothing', () => {
  const out = render(true, false);
  assert.ok(/\[\d+A/.test(out.replaceAll('\u001b', '')) && out.includes('\u001b['), 'redraws by moving the cursor up');
  const last = out.slice(out.lastIndexOf('\x1b[2K', out.lastIndexOf('\x1b[2K') - 1));
  assert.match(out, new RegExp(`blob   ${layer.slice(7, 19)} \\[=+\\] done`));
  assert.match(last, /Writing manifest/);
  assert.equal(render(true, true), '');
});

test('byte counts print in decimal units', () => {
  assert.equal(formatBytes(999), '999B');
  assert.equal(formatBytes(1_500_000), '1.50MB');
  assert.equal(formatBytes(48_512_000), '48.5MB');
});
