/**
 * Builds what the repository runs from: the native executor (system C
 * compiler, warnings as errors) and the bundled command entry points.
 * Called by scripts/install.sh; safe to run again (rebuilds only when a
 * source is newer than its output, unless --force).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchemas } from './build-schemas.ts';
import { launcherSource, type LauncherOptions } from './launcher.ts';
import { BERTH_PROGRAM } from '../src/cli/berth/program.ts';
import type { FlagSpec } from '../src/cli/framework/flags.ts';
import { GLOBAL_FLAGS } from '../src/cli/berth-runtime/global-flags.ts';
import { OWN_CODE_CACHE } from './train.ts';

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

/**
 * Escapes what esbuild leaves outside ASCII (it does not escape regular expression literals, such
 * as events' /µs|μs/): one such character makes V8 hold the whole source, which every command
 * reads, hashes and keeps for lazy compiles, as two bytes a character instead of one. \uXXXX means
 * the same character in strings, templates and regular expressions (with or without the u flag).
 */
function asciiOnly(file: string): void {
  const text = readFileSync(file, 'utf8');
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped !== text) writeFileSync(file, escaped);
}

function stale(output: string, inputs: string[]): boolean {
  if (force || !existsSync(output)) return true;
  return statSync(output).mtimeMs < newestMtime(inputs);
}

// The native programs, one directory each under native/ (native/monitor/README.md says what goes where).
// Each is built from its own directory, common/ (what they share), and the programs it embeds minus
// their main.c: berth-runtime's front forks executors from itself, so it embeds the executor.
const nativeDir = join(repo, 'native');
// The monitor is linked statically: one runs per container, and the dynamic loader's and libc's
// mappings alone would take half of its 1 MiB budget of resident memory (issue 10). The init is
// too, and shares nothing: it is bind-mounted into containers whose image may have no libc. The executor is
// static for its start: one is exec'd per container and per exec, and the dynamic loader's work cost 0.5 ms
// of each (measured in the engine's run, 1.0-1.1 ms from its exec to its fork against 1.5-1.7 dynamic).
const natives: { name: string; dir: string; embeds: string[]; flags?: string[]; common?: false }[] = [
  { name: 'berth-exec', dir: 'executor', embeds: [], flags: ['-static'] },
  { name: 'berth-runtime', dir: 'front', embeds: ['executor'] },
  // berth's client: hands a command to berthd when it takes it, else becomes build/berth.cjs.
  { name: 'berth-client', dir: 'client', embeds: [] },
  { name: 'berth-monitor', dir: 'monitor', embeds: [], flags: ['-static'] },
  { name: 'berth-init', dir: 'init', embeds: [], flags: ['-static'], common: false },
  // The functions' watchdog, static for the same reason as the init: bind-mounted into any image.
  { name: 'berth-watchdog', dir: 'watchdog', embeds: [], flags: ['-static'], common: false },
  // The gateway's relay for warm function calls (src/faas/relay.ts): one per berthd, nothing shared.
  { name: 'berth-relay', dir: 'relay', embeds: [], common: false },
  // berthd asleep (src/api/sleep.ts): static, for the same reason as the monitor: its resident memory is all it is for.
  { name: 'berth-idle', dir: 'idle', embeds: [], flags: ['-static'], common: false },
];
const cSources = (dir: string): string[] => readdirSync(join(nativeDir, dir)).filter((f) => f.endsWith('.c')).map((f) => join(nativeDir, dir, f));
for (const { name, dir, embeds, flags = [], common } of natives) {
  const exe = join(out, name);
  const dirs = [dir, ...(common === false ? [] : ['common']), ...embeds];
  const own = cSources(dir);
  if (own.length === 0 || !stale(exe, dirs.map((d) => join(nativeDir, d)))) continue;
  const sources = [...own, ...(common === false ? [] : cSources('common')), ...embeds.flatMap((d) => cSources(d).filter((f) => !f.endsWith('/main.c')))];
  const cc = process.env['CC'] ?? 'cc';
  execFileSync(
    cc,
    ['-std=gnu11', '-O2', '-s', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wformat=2', '-Wno-unused-parameter',
      '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', ...flags, ...dirs.map((d) => `-I${join(nativeDir, d)}`), '-o', `${exe}.new`, ...sources],
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
  'berthd': 'src/cli/berthd/main.ts',
};
const srcDir = join(repo, 'src');
const valueFlags = (flags: readonly FlagSpec[]): string[] => flags.filter((f) => f.type !== 'bool').flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
const launchers: Record<string, LauncherOptions> = {
  'berth-runtime': { valueFlags: valueFlags(GLOBAL_FLAGS), ownCache: OWN_CODE_CACHE },
  // Every word that names a command or group: each has its own cache, written by its first run, since
  // one shared cache would hold (and every command would load) whatever the first command compiled.
  'berth': {
    valueFlags: valueFlags(BERTH_PROGRAM.globals),
    ownCache: [...BERTH_PROGRAM.commands, ...BERTH_PROGRAM.groups].flatMap((e) => [e.name, ...('aliases' in e ? (e.aliases ?? []) : [])]),
    ownOnFirstRun: true,
  },
};
for (const [name, entry] of Object.entries(commands)) {
  // One CommonJS file per command: require() skips the ESM loader's per-module resolution,
  // and modules a command does not use are bundled but never initialised (esbuild's lazy init).
  const bundle = join(out, `${name}.bundle.cjs`);
  const launcher = join(out, `${name}.cjs`);
  if (stale(bundle, [srcDir, join(repo, 'package-lock.json')]) || stale(launcher, [join(repo, 'scripts/build.ts'), join(repo, 'scripts/launcher.ts')])) {
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
    asciiOnly(fresh);
    renameSync(fresh, bundle);
    // The launcher loads the bundle with its V8 code cache (scripts/launcher.ts).
    const launcherTmp = `${launcher}.new-${process.pid}`;
    writeFileSync(launcherTmp, launcherSource(node, name, join(out, 'compile-cache'), launchers[name] ?? {}));
    chmodSync(launcherTmp, 0o755);
    renameSync(launcherTmp, launcher);
    console.error(`==> built ${launcher}`);
  }
}

// berth-runtime's code cache, trained on the commands of a container's life (scripts/train.ts)
// whenever the bundle, the launcher or Node.js changed. Training runs containers, so it needs root; without
// it the first command run writes the cache of what it compiled.
const cacheName = (command: string): string => join(out, 'code-cache', `berth-runtime${command ? `-${command}` : ''}-${process.versions.v8}-${process.arch}.bin`);
const codeCache = cacheName('');
if (stale(codeCache, [join(out, 'berth-runtime.bundle.cjs'), join(out, 'berth-runtime.cjs'), join(out, 'berth-runtime'), join(repo, 'scripts/train.ts')])) {
  for (const command of ['', ...OWN_CODE_CACHE]) rmSync(cacheName(command), { force: true });
  if (process.getuid?.() === 0) {
    const r = spawnSync(join(out, 'berth-runtime'), [], {
      env: { ...process.env, BERTH_TRAIN_CODE_CACHE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) console.error(`==> training berth-runtime's code cache: some commands failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
    console.error(`==> built ${codeCache}${existsSync(codeCache) ? '' : ' (not written)'}`);
  }
}
