/**
 * What a build is asked for, from the words a user types (docker build's
 * and buildah bud's): the Containerfile named, read from stdin ("-") or
 * found in the context (Containerfile, then Dockerfile), and the build
 * args given as KEY=VALUE or as a bare KEY taken from the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument, notFound } from '../../errors.ts';

export interface ContainerfileText {
  text: string;
  /** As errors name it: the path given, or the name found in the context. */
  name: string;
}

/** The Containerfile of a build: `file` ("-" for stdin) or the context's own. */
export function findContainerfile(context: string, file?: string): ContainerfileText {
  if (file === '-') return { text: readFileSync(0, 'utf8'), name: 'Containerfile' };
  if (file !== undefined) {
    try {
      return { text: readFileSync(file, 'utf8'), name: file };
    } catch (err) {
      throw notFound('build.file', `Containerfile "${file}": cannot be read`, { cause: err });
    }
  }
  for (const name of ['Containerfile', 'Dockerfile']) {
    const path = join(context, name);
    if (existsSync(path)) return { text: readFileSync(path, 'utf8'), name };
  }
  throw notFound('build.file', `no Containerfile or Dockerfile in "${context}" (name one with -f)`);
}

/** `--build-arg` words: KEY=VALUE, or KEY alone for the environment's value (left out when unset there, as docker does). */
export function buildArgsFrom(words: readonly string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of words) {
    const eq = a.indexOf('=');
    if (eq === 0) throw invalidArgument('invalid_build_arg', `--build-arg "${a}": want KEY=VALUE`);
    if (eq === -1) {
      const v = env[a];
      if (v !== undefined) out.set(a, v);
      continue;
    }
    out.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return out;
}
