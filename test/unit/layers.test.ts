/**
 * The house's one-way layers (docs/architecture.md): each room under src/
 * imports only the rooms below it, so a library never reaches up into the
 * engine or a command, and the command-line framework stays cheap to load.
 * Rooms that do not exist yet (network, engine, api, cri, faas) have their
 * rule already, so their first file lands on the right side of it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** What each room may import besides itself; '.' is the files directly in src/ (errors, paths, trace, delay). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  '.': ['.'],
  oci: ['.'],
  sys: ['.', 'oci'],
  runtime: ['.', 'oci', 'sys'],
  image: ['.', 'oci', 'sys', 'runtime'],
  network: ['.', 'oci', 'sys', 'runtime'],
  engine: ['.', 'oci', 'sys', 'runtime', 'image', 'network'],
  api: ['.', 'oci', 'sys', 'runtime', 'image', 'network', 'engine'],
  cri: ['.', 'oci', 'sys', 'runtime', 'image', 'network', 'engine'],
  faas: ['.', 'oci', 'sys', 'runtime', 'image', 'network', 'engine'],
  cli: ['.', 'oci', 'sys', 'runtime', 'image', 'network', 'engine', 'api', 'cri', 'faas'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file, static and dynamic, type-only included. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1] ?? ''));
}

function roomOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? '.' : (parts[0] ?? '.');
}

test('each room of src/ imports only the rooms below it', () => {
  const wrong: string[] = [];
  for (const file of sources(SRC)) {
    const room = roomOf(file);
    const allowed = MAY_IMPORT[room];
    if (allowed === undefined) {
      wrong.push(`${relative(SRC, file)}: room "${room}" has no rule in docs/architecture.md (add it here too)`);
      continue;
    }
    for (const target of imports(file)) {
      // The package's own metadata (its version) is no room.
      if (target === join(SRC, '..', 'package.json')) continue;
      const to = roomOf(target);
      if (to !== room && !allowed.includes(to)) wrong.push(`${relative(SRC, file)} imports ${relative(SRC, target)} (${room} may import ${allowed.join(', ')})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the command-line framework imports nothing of berth but the errors and their exit codes (both commands load it at start-up)', () => {
  const errorFiles = [join(SRC, 'errors.ts'), join(SRC, 'error-status.ts')];
  const wrong = sources(join(SRC, 'cli', 'framework')).flatMap((file) =>
    imports(file)
      .filter((t) => !t.startsWith(join(SRC, 'cli', 'framework')) && !errorFiles.includes(t))
      .map((t) => `${relative(SRC, file)} imports ${relative(SRC, t)}`),
  );
  assert.deepEqual(wrong, []);
});

test('the two commands do not import each other', () => {
  const wrong: string[] = [];
  for (const [from, to] of [['berth', 'berth-runtime'], ['berth-runtime', 'berth']] as const) {
    for (const file of sources(join(SRC, 'cli', from))) {
      for (const t of imports(file)) if (t.startsWith(join(SRC, 'cli', to) + '/')) wrong.push(`${relative(SRC, file)} imports ${relative(SRC, t)}`);
    }
  }
  assert.deepEqual(wrong, []);
});
