/**
 * Builds what the repository runs from: the native executor (system C
 * compiler, warnings as errors) and the bundled command entry points.
 * Called by scripts/install.sh; safe to run again (rebuilds only when a
 * source is newer than its output, unless --force).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchemas } from './build-schemas.ts';

const repo = join(import.meta.dirname, '..');
const out = join(repo, 'build');
const force = process.argv.includes('--force');
mkdirSync(out, { recursive: true });

function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const p of paths) {
    const st = statSync(p);
    if (st.isDirectory()) {
      newest = Math.max(newest, newestMtime(readdirSync(p).map((e) => join(p, e))));
    } else {
      newest = Math.max(newest, st.mtimeMs);
    }
  }
  return newest;
}

function stale(output: string, inputs: string[]): boolean {
  if (force || !existsSync(output)) return true;
  return statSync(output).mtimeMs < newestMtime(inputs);
}

// The native executor.
const nativeDir = join(repo, 'native');
const exe = join(out, 'berth-exec');
if (stale(exe, [nativeDir])) {
  const sources = readdirSync(nativeDir)
    .filter((f) => f.endsWith('.c'))
    .map((f) => join(nativeDir, f));
  const cc = process.env['CC'] ?? 'cc';
  execFileSync(
    cc,
    ['-std=gnu11', '-O2', '-s', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wformat=2', '-Wno-unused-parameter',
      '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', '-o', `${exe}.new`, ...sources],
    { stdio: 'inherit' },
  );
  renameSync(`${exe}.new`, exe);
  console.error(`==> built ${exe}`);
}

// Validators compiled from the official OCI JSON schemas.
const generated = join(out, 'generated');
if (stale(join(generated, 'runtime-spec-schema.cjs'), [join(repo, 'scripts/build-schemas.ts')])) {
  buildSchemas(generated);
  console.error(`==> built ${generated}`);
}

// The commands, bundled into one file each so start-up reads one module.
const node = realpathSync(join(out, 'node'));
const commands: Record<string, string> = {
  'berth-runtime': 'src/cli/berth-runtime/cli.ts',
  'berth': 'src/cli/berth/main.ts',
};
const srcDir = join(repo, 'src');
for (const [name, entry] of Object.entries(commands)) {
  // One CommonJS file per command: require() skips the ESM loader's per-module resolution,
  // and modules a command does not use are bundled but never initialised (esbuild's lazy init).
  const bundle = join(out, `${name}.bundle.cjs`);
  const launcher = join(out, `${name}.cjs`);
  if (stale(bundle, [srcDir, join(repo, 'package-lock.json')]) || stale(launcher, [join(repo, 'scripts/build.ts')])) {
    const esbuild = await import('esbuild');
    // Built aside and renamed into place, so a command running meanwhile never sees half a bundle.
    const fresh = `${bundle}.new-${process.pid}`;
    await esbuild.build({
      entryPoints: [join(repo, entry)],
      outfile: fresh,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      // Whitespace and syntax only: half the bytes to read and hash at every start, names kept for stacks.
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'warning',
      // ESM-only code (koffi's loader uses import.meta.url) keeps working inside the CommonJS bundle.
      define: { BERTH_BUNDLED: 'true', 'import.meta.dirname': '__dirname', 'import.meta.url': '__berthImportMetaUrl' },
      banner: { js: 'var __berthImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    });
    renameSync(fresh, bundle);
    // The launcher enables V8's compile cache before loading the bundle, so a
    // second start-up skips parsing and compiling what the first one did.
    const launcherTmp = `${launcher}.new-${process.pid}`;
    writeFileSync(
      launcherTmp,
      `#!${node}\n` +
        `'use strict';\n` +
        `try { require('node:module').enableCompileCache?.(${JSON.stringify(join(out, 'compile-cache'))}); } catch {}\n` +
        `require(${JSON.stringify(`./${name}.bundle.cjs`)});\n`,
    );
    chmodSync(launcherTmp, 0o755);
    renameSync(launcherTmp, launcher);
    console.error(`==> built ${launcher}`);
  }
}
