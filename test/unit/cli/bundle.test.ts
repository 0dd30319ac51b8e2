import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const build = join(import.meta.dirname, '..', '..', '..', 'build');

// One character outside ASCII (esbuild leaves them in regular expression literals) makes V8 keep
// the whole bundle, which every command reads, as two bytes a character (scripts/build.ts).
for (const name of ['berth-runtime', 'berth']) {
  test(`build/${name}.bundle.cjs is ASCII only, so V8 holds it one byte a character`, () => {
    const text = readFileSync(join(build, `${name}.bundle.cjs`), 'latin1');
    // eslint-disable-next-line no-control-regex
    const at = text.search(/[^\x00-\x7f]/);
    assert.equal(at, -1, `non-ASCII at offset ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}`);
  });
}
