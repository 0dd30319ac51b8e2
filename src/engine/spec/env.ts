/**
 * `-e` and `--env-file` as docker reads them: `KEY=value` sets, a bare `KEY`
 * takes the caller's value and is left out when the caller has none; in a
 * file, blank lines and `#` comments are skipped and leading spaces of a
 * line dropped. Files come first, then each `-e` in order; a later entry
 * replaces an earlier one with the same key. Reading the files is the
 * caller's job (this stays free of side effects).
 */
import { flagError } from './flag-error.ts';

export interface EnvFile {
  path: string;
  text: string;
}

/** One entry, or undefined when it names a variable the caller does not have. */
function envEntry(flag: string, raw: string, callerEnv: Readonly<Record<string, string | undefined>>): string | undefined {
  const eq = raw.indexOf('=');
  const key = eq === -1 ? raw : raw.slice(0, eq);
  if (key === '') throw flagError(flag, raw, 'not KEY=value (the name is empty)');
  if (/\s/.test(key)) throw flagError(flag, raw, `the name "${key}" contains white space`);
  if (raw.includes('\0')) throw flagError(flag, raw, 'contains a NUL byte');
  if (eq !== -1) return raw;
  const value = callerEnv[key];
  return value === undefined ? undefined : `${key}=${value}`;
}

/** Lines of one --env-file. */
export function parseEnvFile(file: EnvFile, callerEnv: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  file.text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) return;
    const entry = envEntry(`--env-file ${file.path}:${i + 1}`, line, callerEnv);
    if (entry !== undefined) out.push(entry);
  });
  return out;
}

/** `KEY=value` entries with later keys replacing earlier ones in place. */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  for (const entry of overrides) {
    const key = entry.slice(0, entry.indexOf('=') + 1);
    const i = out.findIndex((e) => e.startsWith(key));
    if (i === -1) out.push(entry);
    else out[i] = entry;
  }
  return out;
}

/** The environment the user asked for: --env-file entries, then -e, merged by key. */
export function parseEnv(
  envFlags: readonly string[],
  files: readonly EnvFile[],
  callerEnv: Readonly<Record<string, string | undefined>>,
): string[] {
  const entries = files.flatMap((f) => parseEnvFile(f, callerEnv));
  for (const raw of envFlags) {
    const entry = envEntry('--env', raw, callerEnv);
    if (entry !== undefined) entries.push(entry);
  }
  return mergeEnv([], entries);
}
