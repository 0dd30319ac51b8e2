/**
 * Volume names and where a volume lives, docker's local layout:
 * `<root>/volumes/<name>/_data`. A name is docker's rule (at least two of
 * `[a-zA-Z0-9][a-zA-Z0-9_.-]`, at most 255), so it is one path component:
 * no "/", no NUL, never "." or "..", and it cannot begin with the "." of
 * the directory's own bookkeeping (`.trash-*`). The rule is the path
 * safety; volumes.ts also refuses a symlink planted where a directory goes.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { invalidArgument } from '../../errors.ts';
import { isValidName, MAX_NAME_LENGTH } from '../store/names.ts';

export function checkVolumeName(name: string): string {
  if (!isValidName(name)) {
    throw invalidArgument(
      'invalid_volume_name',
      `volume name ${JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)}: invalid, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at least 2 characters, at most ${MAX_NAME_LENGTH})`,
      { details: { name } },
    );
  }
  return name;
}

/** Anonymous volumes are named as docker names them: 64 random hex digits. */
export function newVolumeName(): string {
  return randomBytes(32).toString('hex');
}

export function volumesDir(root: string): string {
  return join(root, 'volumes');
}

/** The volume's directory and its data, for a name already checked. */
export function volumePaths(root: string, name: string): { dir: string; data: string } {
  const dir = join(volumesDir(root), checkVolumeName(name));
  return { dir, data: join(dir, '_data') };
}
