/**
 * Container IDs and names as docker makes and accepts them: an ID is 64
 * lowercase hex digits from the system's random source; a name is at least
 * two characters of `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, given with or without
 * docker's leading `/`. Volume names follow the same rule
 * (src/engine/volumes/names.ts).
 */
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../../errors.ts';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const ID = /^[0-9a-f]{64}$/;
/** Longer names are refused rather than truncated; docker has no limit, a file name has 255. */
export const MAX_NAME_LENGTH = 255;

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function isContainerId(value: string): boolean {
  return ID.test(value);
}

/** The name as stored (without docker's leading "/"), or an error naming it. */
export function checkContainerName(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!isValidName(bare)) {
    throw invalidArgument(
      'invalid_container_name',
      `container name ${JSON.stringify(name)}: invalid, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at least 2 characters, at most ${MAX_NAME_LENGTH})`,
      { details: { name } },
    );
  }
  return bare;
}

/** Whether `name` fits the name rule (shared with volume names). */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}
