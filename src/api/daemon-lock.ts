/**
 * berthd's lock file as the command line reads it: the pid the holder wrote
 * into it. No flock here (that is src/sys, which loads the FFI): `berth`'s
 * start-up path reads the holder without taking the lock.
 */
import { readFileSync } from 'node:fs';

/** The pid written into the lock file, if any. */
export function lockHolder(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
