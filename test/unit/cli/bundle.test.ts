import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const build = join(import.meta.dirname, '..', '..', '..', 'build');

// One character outside ASCII (esbuild leaves them in regular expression literals) makes V8 keep
// the whole bundle, which every command reads, as two bytes a character (scripts/build.ts).
for (const name of ['berth-runtime', 'berth', 'berthd']) {
  test(`build/${name}.bundle.cjs is ASCII only, so V8 holds it one byte a character`, () => {
    const text = readFileSync(join(build, `${name}.bundle.cjs`), 'latin1');
    // eslint-disable-next-line no-control-regex
    const at = text.search(/[^\x00-\x7f]/);
    assert.equal(at, -1, `non-ASCII at offset ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 10))}`);
  });
}

test("build/berth-runtime.bundle.cjs does not carry the image-spec's schema validators, which it never uses", () => {
  const image = readFileSync(join(build, 'generated', 'image-spec-schema.cjs'), 'utf8');
  const runtime = readFileSync(join(build, 'generated', 'runtime-spec-schema.cjs'), 'utf8');
  // The image schemas' own descriptions ("OpenContainer Image Manifest Specification"), none of the runtime's.
  const marks = [...image.matchAll(/description:"(OpenContainer [^"]+)"/g)].map((m) => m[1] ?? '').filter((d) => !runtime.includes(d));
  assert.ok(marks.length > 0, 'the image-spec validators have descriptions to look for');
  const bundle = readFileSync(join(build, 'berth-runtime.bundle.cjs'), 'utf8');
  assert.deepEqual(marks.filter((d) => bundle.includes(d)), []);
});
